using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Inference.Server.Hosting;

/// <summary>
/// Which Host header values name this server, as Ollama's allowedHostsMiddleware decides it: IP
/// literals that are loopback, private, unspecified or one of this machine's addresses; localhost and
/// *.localhost; the machine's host name; the local TLDs *.local and *.internal; plus the hosts an
/// operator lists in Server:AllowedHosts (exact names or "*.example.com"; "*" allows any).
/// A DNS-rebinding page reaches a loopback server under the attacker's own name, which is none of these.
/// </summary>
public sealed class HostAllowlist
{
    private static readonly string[] LocalSuffixes = [".localhost", ".local", ".internal"];
    private readonly IReadOnlyList<string> _configured;
    private readonly string _machineName;
    private readonly Lazy<HashSet<IPAddress>> _interfaceAddresses = new(LocalInterfaceAddresses);

    public HostAllowlist(IReadOnlyList<string> configured, string? machineName = null)
    {
        _configured = configured;
        _machineName = machineName ?? SafeHostName();
    }

    /// <param name="host">The Host header's name part, without the port (IPv6 in brackets or bare).</param>
    public bool IsAllowed(string host)
    {
        host = host.Trim().TrimEnd('.');
        if (host.Length == 0) return true; // HTTP/1.0 without Host: not something a browser sends.
        var bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        if (IPAddress.TryParse(bare, out var ip)) return IsLocalAddress(ip) || IsListed(host) || IsListed(bare);
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        if (host.Equals(_machineName, StringComparison.OrdinalIgnoreCase)) return true;
        if (LocalSuffixes.Any(s => host.EndsWith(s, StringComparison.OrdinalIgnoreCase))) return true;
        return IsListed(host);
    }

    private bool IsListed(string host)
    {
        foreach (var pattern in _configured)
        {
            if (pattern == "*") return true;
            if (pattern.StartsWith("*.", StringComparison.Ordinal)
                ? host.EndsWith(pattern[1..], StringComparison.OrdinalIgnoreCase) && host.Length > pattern.Length - 1
                : host.Equals(pattern, StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }

    private bool IsLocalAddress(IPAddress ip)
    {
        if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        if (IPAddress.IsLoopback(ip) || ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)) return true;
        if (IsPrivate(ip)) return true;
        return _interfaceAddresses.Value.Contains(ip);
    }

    /// <summary>RFC 1918 and RFC 4193 ranges (Go's netip.Addr.IsPrivate, which Ollama uses).</summary>
    private static bool IsPrivate(IPAddress ip)
    {
        var b = ip.GetAddressBytes();
        if (ip.AddressFamily == AddressFamily.InterNetwork)
            return b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168);
        return (b[0] & 0xFE) == 0xFC;
    }

    /// <summary>Whether a connection arrived on a loopback address: only then can a rebound name point at us unintended.</summary>
    public static bool IsLoopbackConnection(IPAddress? local) =>
        local is not null && IPAddress.IsLoopback(local.IsIPv4MappedToIPv6 ? local.MapToIPv4() : local);

    private static HashSet<IPAddress> LocalInterfaceAddresses()
    {
        var set = new HashSet<IPAddress>();
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                    set.Add(unicast.Address);
        }
        catch (NetworkInformationException)
        {
            // Without the list, only loopback, private and unspecified literals are recognised.
        }
        return set;
    }

    private static string SafeHostName()
    {
        try { return Dns.GetHostName(); }
        catch (SocketException) { return "localhost"; }
    }
}
