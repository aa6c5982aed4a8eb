namespace Inference.Tests.Platform.Sql;

/// <summary>
/// The two tenants the PostgreSQL tests use, shaped like real ones and different from each other.
/// <para>
/// tenant_acme: users (2,000), products (500; 12 columns: "wide"), orders (20,000; indexed on user_id
/// and created_at, not on status), order_items (40,000; primary key (order_id, product_id), nothing
/// on product_id alone).
/// </para>
/// <para>
/// tenant_globex: users (300; full_name and tier instead of name and country), products (100;
/// 4 columns), orders (3,000; placed_at instead of created_at; indexed on user_id), invoices (1,000;
/// only globex has it).
/// </para>
/// Emails end in @acme.test or @globex.test, so a result shows which tenant it came from.
/// </summary>
internal static class TenantSeed
{
    public const string Sql = """
        CREATE SCHEMA tenant_acme;

        CREATE TABLE tenant_acme.users (
            id serial PRIMARY KEY,
            email varchar(200) NOT NULL UNIQUE,
            name text NOT NULL,
            country char(2),
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE tenant_acme.products (
            id serial PRIMARY KEY,
            sku text NOT NULL UNIQUE,
            name text NOT NULL,
            category text NOT NULL,
            price numeric(10,2) NOT NULL,
            stock integer NOT NULL,
            weight_kg real,
            color text,
            size text,
            description text,
            created_at timestamptz NOT NULL,
            updated_at timestamptz
        );
        CREATE TABLE tenant_acme.orders (
            id bigserial PRIMARY KEY,
            user_id integer NOT NULL REFERENCES tenant_acme.users (id),
            status text NOT NULL,
            total numeric(12,2) NOT NULL,
            created_at timestamptz NOT NULL,
            shipped_at timestamptz
        );
        CREATE INDEX orders_user_id_idx ON tenant_acme.orders (user_id);
        CREATE INDEX orders_created_at_idx ON tenant_acme.orders (created_at);
        CREATE TABLE tenant_acme.order_items (
            order_id bigint NOT NULL REFERENCES tenant_acme.orders (id),
            product_id integer NOT NULL REFERENCES tenant_acme.products (id),
            quantity integer NOT NULL,
            unit_price numeric(10,2) NOT NULL,
            PRIMARY KEY (order_id, product_id)
        );

        INSERT INTO tenant_acme.users (email, name, country, created_at)
        SELECT 'user' || g || '@acme.test', 'Acme User ' || g, (ARRAY['US', 'DE', 'FR', 'GB', 'JP'])[1 + g % 5],
               timestamptz '2023-01-01 00:00:00+00' + g * interval '3 hours'
        FROM generate_series(1, 2000) g;
        INSERT INTO tenant_acme.products (sku, name, category, price, stock, weight_kg, color, size, description, created_at)
        SELECT 'ACME-' || lpad(g::text, 5, '0'), 'Product ' || g, (ARRAY['tools', 'garden', 'kitchen', 'toys'])[1 + g % 4],
               (g % 200) + 0.99, g % 37, (g % 50) / 10.0, (ARRAY['red', 'green', 'blue'])[1 + g % 3], (ARRAY['S', 'M', 'L'])[1 + g % 3],
               'A fine product number ' || g, timestamptz '2022-06-01 00:00:00+00' + g * interval '1 day'
        FROM generate_series(1, 500) g;
        INSERT INTO tenant_acme.orders (user_id, status, total, created_at, shipped_at)
        SELECT 1 + g % 2000, (ARRAY['pending', 'paid', 'shipped', 'delivered', 'cancelled'])[1 + g % 5], (g % 500) + 10.50,
               timestamptz '2023-03-01 00:00:00+00' + g * interval '20 minutes',
               CASE WHEN g % 5 IN (2, 3) THEN timestamptz '2023-03-02 00:00:00+00' + g * interval '20 minutes' END
        FROM generate_series(1, 20000) g;
        INSERT INTO tenant_acme.order_items (order_id, product_id, quantity, unit_price)
        SELECT o, 1 + (o * 7 + k * 13) % 500, 1 + (o + k) % 4, ((o * 7 + k * 13) % 200) + 0.99
        FROM generate_series(1, 20000) o, generate_series(1, 2) k;

        CREATE SCHEMA tenant_globex;

        CREATE TABLE tenant_globex.users (
            id serial PRIMARY KEY,
            email varchar(200) NOT NULL UNIQUE,
            full_name text NOT NULL,
            tier text NOT NULL DEFAULT 'basic',
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE tenant_globex.products (
            id serial PRIMARY KEY,
            sku text NOT NULL UNIQUE,
            title text NOT NULL,
            price numeric(10,2) NOT NULL
        );
        CREATE TABLE tenant_globex.orders (
            id bigserial PRIMARY KEY,
            user_id integer NOT NULL REFERENCES tenant_globex.users (id),
            status text NOT NULL,
            total numeric(12,2) NOT NULL,
            placed_at timestamptz NOT NULL
        );
        CREATE INDEX orders_user_id_idx ON tenant_globex.orders (user_id);
        CREATE TABLE tenant_globex.invoices (
            id serial PRIMARY KEY,
            order_id bigint NOT NULL REFERENCES tenant_globex.orders (id),
            amount numeric(12,2) NOT NULL,
            issued_at date NOT NULL
        );

        INSERT INTO tenant_globex.users (email, full_name, tier, created_at)
        SELECT 'user' || g || '@globex.test', 'Globex User ' || g, (ARRAY['basic', 'gold'])[1 + g % 2],
               timestamptz '2023-01-01 00:00:00+00' + g * interval '1 day'
        FROM generate_series(1, 300) g;
        INSERT INTO tenant_globex.products (sku, title, price)
        SELECT 'GX-' || g, 'Globex item ' || g, g + 0.5 FROM generate_series(1, 100) g;
        INSERT INTO tenant_globex.orders (user_id, status, total, placed_at)
        SELECT 1 + g % 300, (ARRAY['open', 'closed'])[1 + g % 2], g % 900 + 1, timestamptz '2023-05-01 00:00:00+00' + g * interval '1 hour'
        FROM generate_series(1, 3000) g;
        INSERT INTO tenant_globex.invoices (order_id, amount, issued_at)
        SELECT g, g % 900 + 1, date '2023-05-01' + g / 10 FROM generate_series(1, 1000) g;

        ANALYZE;
        """;
}
