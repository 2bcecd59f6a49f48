//! `deploy/serve.yaml` keeps what `cronjob.yaml` relies on: the same pod and
//! container hardening, the workload-identity ServiceAccount and volume, one
//! replica replaced (not rolled) because it holds the writer, probes on
//! /healthz and /readyz, and a Service that selects its pod.
//! `deploy/validate.sh` checks both files against the Kubernetes schemas.

use serde::Deserialize;
use serde_json::Value;
use std::path::PathBuf;

fn documents(file: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| Value::deserialize(d).unwrap())
        .filter(|d| !d.is_null())
        .collect()
}

fn kind<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

#[test]
fn serve_deployment_has_the_cronjobs_hardening_and_probes() {
    let serve = documents("deploy/serve.yaml");
    let cron = documents("cronjob.yaml");
    let dep = kind(&serve, "Deployment");
    let pod = &dep["spec"]["template"]["spec"];
    let cron_pod = &kind(&cron, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"], cron_pod["securityContext"]);
    assert_eq!(pod["serviceAccountName"], cron_pod["serviceAccountName"]);
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["volumes"], cron_pod["volumes"]);
    let c = &pod["containers"][0];
    let cron_c = &cron_pod["containers"][0];
    assert_eq!(c["securityContext"], cron_c["securityContext"]);
    assert_eq!(c["volumeMounts"], cron_c["volumeMounts"]);
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(dep["spec"]["replicas"], 1);
    assert_eq!(dep["spec"]["strategy"]["type"], "Recreate");
    assert_eq!(
        dep["spec"]["template"]["metadata"]["labels"]["azure.workload.identity/use"],
        "true"
    );
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args[0], "serve");
    assert!(args.contains(&"--index-every") && args.contains(&"--registry"));
    // Every $(VAR) the args use is in the ConfigMap the container reads.
    let cm = kind(&serve, "ConfigMap");
    assert_eq!(
        c["envFrom"][0]["configMapRef"]["name"],
        cm["metadata"]["name"]
    );
    for a in &args {
        if let Some(var) = a.strip_prefix("$(").and_then(|v| v.strip_suffix(')')) {
            assert!(cm["data"].get(var).is_some(), "{var} not in the ConfigMap");
        }
    }
    // Both files claim the same volume and ServiceAccount, identically.
    for k in ["PersistentVolumeClaim", "ServiceAccount"] {
        assert_eq!(kind(&serve, k), kind(&cron, k), "{k}");
    }
    let svc = kind(&serve, "Service");
    for (k, v) in svc["spec"]["selector"].as_object().unwrap() {
        assert_eq!(&dep["spec"]["template"]["metadata"]["labels"][k], v);
    }
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], c["ports"][0]["name"]);
}
