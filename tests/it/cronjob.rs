//! Checks on the Kubernetes manifests in `cronjob.yaml`: the CronJob's
//! scheduling and failure settings, the hardening of its pod, the wiring
//! between its documents, and the commented pull-secret alternative.
//! `deploy/validate.sh` checks the same file against the Kubernetes schemas;
//! these tests check what the schemas cannot: that the values are the ones
//! the deployment relies on.

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

const BEGIN_ALTERNATIVE: &str = "# >>> ALTERNATIVE: docker-config pull secret >>>";
const END_ALTERNATIVE: &str = "# <<< ALTERNATIVE: docker-config pull secret <<<";
const NAMESPACE: &str = "acr-index";
const NONROOT: u64 = 65532;

fn manifest_text() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cronjob.yaml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Every non-empty YAML document of `text`, as JSON values.
fn parse_documents(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).expect("cronjob.yaml holds invalid YAML"))
        .filter(|doc| !doc.is_null())
        .collect()
}

fn documents() -> Vec<Value> {
    parse_documents(&manifest_text())
}

/// The commented block between the ALTERNATIVE marker lines, uncommented the
/// way the file tells a user to (drop a leading "# " or a lone "#").
fn alternative_text() -> String {
    let text = manifest_text();
    let lines: Vec<&str> = text.lines().collect();
    let begin = lines
        .iter()
        .position(|l| *l == BEGIN_ALTERNATIVE)
        .expect("begin marker of the alternative");
    let end = begin
        + lines[begin..]
            .iter()
            .position(|l| *l == END_ALTERNATIVE)
            .expect("end marker of the alternative");
    let mut out = String::new();
    for line in &lines[begin + 1..end] {
        let uncommented = if *line == "#" {
            ""
        } else {
            line.strip_prefix("# ")
                .unwrap_or_else(|| panic!("line inside the alternative is not commented: {line:?}"))
        };
        out.push_str(uncommented);
        out.push('\n');
    }
    out
}

fn the<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = docs.iter().filter(|d| d["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "expected exactly one {kind} document");
    found[0]
}

/// The value at a JSON pointer, or a panic naming the missing path.
fn at<'a>(value: &'a Value, pointer: &str) -> &'a Value {
    value
        .pointer(pointer)
        .unwrap_or_else(|| panic!("{pointer} is missing"))
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    at(value, pointer)
        .as_str()
        .unwrap_or_else(|| panic!("{pointer} is not a string"))
}

fn u64_at(value: &Value, pointer: &str) -> u64 {
    at(value, pointer)
        .as_u64()
        .unwrap_or_else(|| panic!("{pointer} is not a non-negative integer"))
}

fn pod_spec(cronjob: &Value) -> &Value {
    at(cronjob, "/spec/jobTemplate/spec/template/spec")
}

fn container(cronjob: &Value) -> &Value {
    let containers = at(pod_spec(cronjob), "/containers")
        .as_array()
        .expect("containers is a list");
    assert_eq!(containers.len(), 1, "one container");
    &containers[0]
}

fn args(cronjob: &Value) -> Vec<&str> {
    at(container(cronjob), "/args")
        .as_array()
        .expect("args is a list")
        .iter()
        .map(|a| a.as_str().expect("each arg is a string"))
        .collect()
}

fn volume<'a>(cronjob: &'a Value, name: &str) -> &'a Value {
    at(pod_spec(cronjob), "/volumes")
        .as_array()
        .expect("volumes is a list")
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no volume named {name}"))
}

fn mount<'a>(cronjob: &'a Value, path: &str) -> &'a Value {
    at(container(cronjob), "/volumeMounts")
        .as_array()
        .expect("volumeMounts is a list")
        .iter()
        .find(|m| m["mountPath"] == path)
        .unwrap_or_else(|| panic!("nothing is mounted at {path}"))
}

/// What both variants of the CronJob must share: schedule, failure handling
/// and a hardened pod whose only writable paths are /data (the database
/// volume) and /tmp.
fn assert_cronjob_contract(docs: &[Value], cronjob: &Value) {
    assert_eq!(str_at(cronjob, "/metadata/namespace"), NAMESPACE);
    assert_eq!(str_at(cronjob, "/spec/schedule"), "*/15 * * * *");
    assert_eq!(str_at(cronjob, "/spec/concurrencyPolicy"), "Forbid");
    assert!(u64_at(cronjob, "/spec/startingDeadlineSeconds") > 0);
    assert!(u64_at(cronjob, "/spec/successfulJobsHistoryLimit") > 0);
    assert!(u64_at(cronjob, "/spec/failedJobsHistoryLimit") > 0);

    let job = at(cronjob, "/spec/jobTemplate/spec");
    let deadline = u64_at(job, "/activeDeadlineSeconds");
    assert!(
        deadline > 0 && deadline < 15 * 60,
        "activeDeadlineSeconds {deadline} must end a run before the next slot"
    );
    assert!(u64_at(job, "/backoffLimit") <= 6);

    let pod = pod_spec(cronjob);
    assert_eq!(str_at(pod, "/restartPolicy"), "Never");
    assert_eq!(u64_at(pod, "/terminationGracePeriodSeconds"), 30);
    let sa = the(docs, "ServiceAccount");
    assert_eq!(
        str_at(pod, "/serviceAccountName"),
        str_at(sa, "/metadata/name")
    );

    assert_eq!(at(pod, "/securityContext/runAsNonRoot"), true);
    assert_eq!(u64_at(pod, "/securityContext/runAsUser"), NONROOT);
    assert_eq!(u64_at(pod, "/securityContext/runAsGroup"), NONROOT);
    assert_eq!(u64_at(pod, "/securityContext/fsGroup"), NONROOT);
    assert_eq!(
        str_at(pod, "/securityContext/seccompProfile/type"),
        "RuntimeDefault"
    );

    let c = container(cronjob);
    assert!(!str_at(c, "/image").is_empty());
    assert_eq!(at(c, "/securityContext/runAsNonRoot"), true);
    assert_eq!(u64_at(c, "/securityContext/runAsUser"), NONROOT);
    assert_eq!(u64_at(c, "/securityContext/runAsGroup"), NONROOT);
    assert_eq!(at(c, "/securityContext/allowPrivilegeEscalation"), false);
    assert_eq!(at(c, "/securityContext/readOnlyRootFilesystem"), true);
    assert_eq!(
        at(c, "/securityContext/capabilities/drop"),
        &serde_json::json!(["ALL"])
    );
    assert!(
        c.pointer("/securityContext/capabilities/add").is_none(),
        "no capability is added back"
    );
    assert_eq!(
        str_at(c, "/securityContext/seccompProfile/type"),
        "RuntimeDefault"
    );
    for kind in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            let pointer = format!("/resources/{kind}/{resource}");
            assert!(!str_at(c, &pointer).is_empty(), "{pointer} is empty");
        }
    }

    // Arguments: the index command in JSON log format, every $(VAR) defined
    // by the ConfigMap the container takes its environment from.
    let config = the(docs, "ConfigMap");
    assert_eq!(
        str_at(c, "/envFrom/0/configMapRef/name"),
        str_at(config, "/metadata/name")
    );
    let args = args(cronjob);
    assert_eq!(&args[..3], ["index", "--registry", "$(ACR_INDEX_REGISTRY)"]);
    assert!(
        args.windows(2).any(|w| w == ["--log-format", "json"]),
        "--log-format json missing from {args:?}"
    );
    for arg in &args {
        if let Some(var) = arg.strip_prefix("$(").and_then(|a| a.strip_suffix(')')) {
            assert!(
                config["data"][var].is_string(),
                "{var} is used in args but not set in the ConfigMap"
            );
        }
    }

    // Writable storage: the PVC at /data, an emptyDir at /tmp, nothing else.
    let pvc = the(docs, "PersistentVolumeClaim");
    let data = mount(cronjob, "/data");
    assert_ne!(data["readOnly"], true, "/data must be writable");
    let data_volume = volume(cronjob, str_at(data, "/name"));
    assert_eq!(
        str_at(data_volume, "/persistentVolumeClaim/claimName"),
        str_at(pvc, "/metadata/name")
    );
    let tmp = mount(cronjob, "/tmp");
    assert!(volume(cronjob, str_at(tmp, "/name"))
        .get("emptyDir")
        .is_some());
    for m in at(c, "/volumeMounts").as_array().unwrap() {
        let path = str_at(m, "/mountPath");
        if path != "/data" && path != "/tmp" {
            assert_eq!(m["readOnly"], true, "{path} must be mounted read-only");
        }
    }
}

#[test]
fn every_object_lives_in_the_acr_index_namespace() {
    let docs = documents();
    assert_eq!(str_at(the(&docs, "Namespace"), "/metadata/name"), NAMESPACE);
    for kind in [
        "ServiceAccount",
        "PersistentVolumeClaim",
        "ConfigMap",
        "CronJob",
    ] {
        assert_eq!(
            str_at(the(&docs, kind), "/metadata/namespace"),
            NAMESPACE,
            "{kind}"
        );
    }
}

#[test]
fn service_account_is_annotated_for_workload_identity() {
    let docs = documents();
    let sa = the(&docs, "ServiceAccount");
    assert_eq!(str_at(sa, "/metadata/name"), "acr-index");
    let client_id = str_at(
        sa,
        "/metadata/annotations/azure.workload.identity~1client-id",
    );
    assert!(!client_id.is_empty());
}

#[test]
fn database_volume_claim_is_read_write_once() {
    let docs = documents();
    let pvc = the(&docs, "PersistentVolumeClaim");
    assert_eq!(
        at(pvc, "/spec/accessModes"),
        &serde_json::json!(["ReadWriteOnce"])
    );
    assert!(!str_at(pvc, "/spec/resources/requests/storage").is_empty());
}

#[test]
fn config_map_points_the_database_at_the_volume() {
    let docs = documents();
    let config = the(&docs, "ConfigMap");
    assert!(!str_at(config, "/data/ACR_INDEX_REGISTRY").is_empty());
    assert_eq!(str_at(config, "/data/ACR_INDEX_DB"), "/data/acr-index.db");
    let concurrency = str_at(config, "/data/ACR_INDEX_CONCURRENCY");
    assert!(
        concurrency.parse::<u32>().is_ok_and(|n| n > 0),
        "ACR_INDEX_CONCURRENCY {concurrency:?} is not a positive number"
    );
}

#[test]
fn cronjob_uses_workload_identity() {
    let docs = documents();
    let cronjob = the(&docs, "CronJob");
    assert_cronjob_contract(&docs, cronjob);
    assert_eq!(
        str_at(
            cronjob,
            "/spec/jobTemplate/spec/template/metadata/labels/azure.workload.identity~1use"
        ),
        "true"
    );
    assert!(
        !args(cronjob).contains(&"--docker-config"),
        "the workload identity CronJob must not pass --docker-config"
    );
}

#[test]
fn commented_alternative_uses_a_mounted_pull_secret() {
    let docs = documents();
    let alternative = parse_documents(&alternative_text());
    assert_eq!(alternative.len(), 1, "the alternative is one document");
    let cronjob = the(&alternative, "CronJob");
    // It replaces the CronJob above, so it carries the same name.
    assert_eq!(
        cronjob["metadata"]["name"],
        the(&docs, "CronJob")["metadata"]["name"]
    );
    assert_cronjob_contract(&docs, cronjob);

    assert!(
        cronjob
            .pointer("/spec/jobTemplate/spec/template/metadata/labels/azure.workload.identity~1use")
            .is_none(),
        "the alternative must not opt into workload identity"
    );
    let args = args(cronjob);
    assert!(
        args.windows(2)
            .any(|w| w == ["--docker-config", "/etc/acr-index/.dockerconfigjson"]),
        "--docker-config /etc/acr-index/.dockerconfigjson missing from {args:?}"
    );
    let secret_mount = mount(cronjob, "/etc/acr-index");
    assert_eq!(secret_mount["readOnly"], true);
    let secret = volume(cronjob, str_at(secret_mount, "/name"));
    assert!(!str_at(secret, "/secret/secretName").is_empty());
    assert_eq!(
        at(secret, "/secret/items"),
        &serde_json::json!([{"key": ".dockerconfigjson", "path": ".dockerconfigjson"}])
    );
}
