// Validates deploy/kubernetes offline: each kustomization (the base and every
// overlay) is rendered the way kustomize would for the features it uses
// (resources, configMapGenerator, images), and every object is checked
// against the Kubernetes API schemas (kubernetes-models; the Prometheus
// Operator's for ServiceMonitor and PrometheusRule). Then what the manifests
// promise each other: selectors match the pods, probes hit the admin port's
// /readyz and /healthz, the grace period outlasts preStop + drain_delay +
// drain_timeout, the root file system is read-only with a volume under every
// path the config writes, the PrometheusRule carries exactly the rules
// promtool tests, and the ConfigMap's config passes `infergate --check`.
//
//   node validate_manifests.mjs INFERGATE_BIN
import fs from "node:fs";
import path from "node:path";
import os from "node:os";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const kube = path.join(root, "deploy/kubernetes");
const gateway = process.argv[2];
assert.ok(gateway && fs.existsSync(gateway), "usage: node validate_manifests.mjs INFERGATE_BIN");

// apiVersion/kind -> the module that holds its schema.
const models = {
  "v1/Service": "kubernetes-models/v1/Service",
  "v1/ConfigMap": "kubernetes-models/v1/ConfigMap",
  "apps/v1/Deployment": "kubernetes-models/apps/v1/Deployment",
  "policy/v1/PodDisruptionBudget": "kubernetes-models/policy/v1/PodDisruptionBudget",
  "autoscaling/v2/HorizontalPodAutoscaler": "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler",
  "monitoring.coreos.com/v1/ServiceMonitor": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor",
  "monitoring.coreos.com/v1/PrometheusRule": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule",
};

function readDocs(file) {
  return YAML.parseAllDocuments(fs.readFileSync(file, "utf8")).map((d) => {
    assert.equal(d.errors.length, 0, `${file}: ${d.errors.join("; ")}`);
    return d.toJS();
  }).filter((o) => o);
}

// The subset of kustomize these kustomizations use; anything else is refused.
function render(dir) {
  const k = YAML.parse(fs.readFileSync(path.join(dir, "kustomization.yaml"), "utf8"));
  const known = new Set(["apiVersion", "kind", "resources", "configMapGenerator", "images"]);
  for (const key of Object.keys(k)) assert.ok(known.has(key), `${dir}: kustomization field ${key} is not rendered here`);
  let objects = [];
  const configFiles = {};  // ConfigMap name -> {key: path}
  for (const r of k.resources ?? []) {
    const p = path.join(dir, r);
    if (fs.statSync(p).isDirectory()) {
      const sub = render(p);
      objects.push(...sub.objects);
      Object.assign(configFiles, sub.configFiles);
    } else {
      objects.push(...readDocs(p));
    }
  }
  for (const g of k.configMapGenerator ?? []) {
    const exists = objects.findIndex((o) => o.kind === "ConfigMap" && o.metadata.name === g.name);
    if (g.behavior === "replace") assert.ok(exists >= 0, `${dir}: replaces ConfigMap ${g.name}, which the base lacks`);
    else assert.ok(exists < 0, `${dir}: ConfigMap ${g.name} made twice`);
    const data = {};
    configFiles[g.name] = {};
    for (const f of g.files) {
      data[path.basename(f)] = fs.readFileSync(path.join(dir, f), "utf8");
      configFiles[g.name][path.basename(f)] = path.join(dir, f);
    }
    const map = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: g.name }, data };
    if (exists >= 0) objects[exists] = map;
    else objects.push(map);
  }
  for (const image of k.images ?? [])
    for (const o of objects)
      for (const c of o.spec?.template?.spec?.containers ?? [])
        if (c.image === image.name) c.image = `${image.newName ?? image.name}:${image.newTag}`;
  return { objects, configFiles };
}

function durationSeconds(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(String(text));
  assert.ok(m, `not a duration: ${text}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2]];
}

const matches = (selector, labels) => Object.entries(selector).every(([k, v]) => labels[k] === v);

async function check(name, dir) {
  const { objects, configFiles } = render(dir);
  const of = (kind, n) => objects.find((o) => o.kind === kind && (!n || o.metadata.name === n));
  // Every object against its schema.
  for (const o of objects) {
    const id = `${o.apiVersion}/${o.kind}`;
    assert.ok(models[id], `${name}: no schema for ${id}`);
    const { [o.kind]: Model } = await import(models[id]);
    try {
      new Model(o).validate();
    } catch (e) {
      throw new Error(`${name}: ${o.kind} ${o.metadata.name}: ${e.message}`);
    }
  }
  const deployment = of("Deployment", "infergate");
  const pod = deployment.spec.template;
  const container = pod.spec.containers.find((c) => c.name === "infergate");
  assert.ok(matches(deployment.spec.selector.matchLabels, pod.metadata.labels), `${name}: the Deployment's selector`);
  for (const kind of ["Service", "PodDisruptionBudget", "ServiceMonitor"]) {
    const o = of(kind, "infergate");
    const selector = kind === "Service" ? o.spec.selector : o.spec.selector.matchLabels;
    assert.ok(matches(selector, pod.metadata.labels), `${name}: ${kind}'s selector does not match the pods`);
  }
  assert.ok(matches(of("ServiceMonitor").spec.selector.matchLabels, of("Service", "infergate").metadata.labels),
            `${name}: the ServiceMonitor does not select the Service`);
  const hpa = of("HorizontalPodAutoscaler");
  assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name);
  assert.ok(hpa.spec.minReplicas >= 2, `${name}: one replica cannot drain without an outage`);

  // The config the pods mount, and what it implies.
  const volume = pod.spec.volumes.find((v) => v.configMap);
  const configMap = of("ConfigMap", volume.configMap.name);
  assert.ok(configMap, `${name}: the config volume names ConfigMap ${volume.configMap.name}, which is not rendered`);
  const configMount = container.volumeMounts.find((m) => m.name === volume.name);
  const configArg = container.args[container.args.indexOf("--config") + 1];
  assert.equal(path.dirname(configArg), configMount.mountPath);
  const configText = configMap.data[path.basename(configArg)];
  assert.ok(configText, `${name}: ${configArg} is not in the ConfigMap`);
  const config = YAML.parse(configText);
  const port = (address) => Number(String(address).split(":").pop());
  const portNamed = (n) => container.ports.find((p) => p.name === n).containerPort;
  assert.equal(port(config.server.listen), portNamed("http"));
  assert.equal(port(config.admin.listen), portNamed("admin"));
  for (const [probe, pathWanted] of [["readinessProbe", "/readyz"], ["livenessProbe", "/healthz"]]) {
    assert.equal(container[probe].httpGet.path, pathWanted, `${name}: ${probe}`);
    assert.equal(container[probe].httpGet.port, "admin", `${name}: ${probe} port`);
  }
  const preStop = container.lifecycle.preStop.exec.command;
  assert.equal(preStop[0], "sleep");
  const needed = Number(preStop[1]) + durationSeconds(config.server.drain_delay ?? "0s") +
                 durationSeconds(config.server.drain_timeout ?? "30s");
  assert.ok(pod.spec.terminationGracePeriodSeconds > needed,
            `${name}: terminationGracePeriodSeconds ${pod.spec.terminationGracePeriodSeconds} <= ${needed}`);
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.equal(pod.spec.securityContext.runAsNonRoot, true);
  const writes = [config.drift?.baseline_file, config.sampling?.sink?.path,
                  config.access_log?.path?.startsWith("/") ? config.access_log.path : undefined].filter(Boolean);
  for (const file of writes)
    assert.ok(container.volumeMounts.some((m) => !m.readOnly && file.startsWith(m.mountPath + "/")),
              `${name}: ${file} is not on a writable volume`);

  // The PrometheusRule is the rule files promtool tests, group for group.
  const rules = ["infergate-recording.yml", "infergate-alerts.yml"].flatMap(
      (f) => YAML.parse(fs.readFileSync(path.join(root, "deploy/prometheus/rules", f), "utf8")).groups);
  assert.deepEqual(of("PrometheusRule").spec.groups, rules,
                   `${name}: base/prometheusrule.yaml is out of date: run deploy/kubernetes/make-prometheusrule.sh`);

  // The config itself, as the gateway reads it (cluster names need not resolve here).
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "infergate-k8s-"));
  const file = path.join(tmp, "infergate.yaml");
  fs.writeFileSync(file, configText);
  const env = { ...process.env };
  for (const m of configText.matchAll(/\$\{([A-Z0-9_]+)\}/g)) env[m[1]] = "sk-manifest-check-0123456789";
  execFileSync(gateway, ["--config", file, "--check"], { env, stdio: ["ignore", "pipe", "pipe"] });
  fs.rmSync(tmp, { recursive: true });
  console.log(`${name}: ${objects.length} objects valid (${objects.map((o) => o.kind).join(", ")})`);
}

await check("base", path.join(kube, "base"));
for (const overlay of fs.readdirSync(path.join(kube, "overlays")))
  await check(`overlays/${overlay}`, path.join(kube, "overlays", overlay));
console.log("all manifests valid");
