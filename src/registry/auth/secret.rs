use std::borrow::Cow;
use std::fmt;
use std::sync::RwLock;

/// A credential that must never be printed: `Debug` and `Display` redact it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// Every credential the program holds, so that text a server controls (an
/// error body, a serde message, an Entra error code echoing the request)
/// can be scrubbed of them before it reaches a log, stderr or the database.
static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Shorter strings are not scrubbed: they would mangle ordinary text.
const MIN_SCRUBBED: usize = 4;

/// Remember a secret (and the forms it is sent in) for [`scrub`].
pub fn register(secret: &str) {
    if secret.len() < MIN_SCRUBBED {
        return;
    }
    let mut forms = vec![secret.to_string()];
    let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    forms.push(encoded);
    if let Ok(json) = serde_json::to_string(secret) {
        forms.push(json.trim_matches('"').to_string());
    }
    let mut known = KNOWN.write().unwrap_or_else(|e| e.into_inner());
    for f in forms {
        if !known.contains(&f) {
            known.push(f);
        }
    }
    // Longest first, so a secret containing another is replaced whole.
    known.sort_by_key(|k| std::cmp::Reverse(k.len()));
}

/// `text` with every registered secret replaced by `[redacted]`.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let known = KNOWN.read().unwrap_or_else(|e| e.into_inner());
    if !known.iter().any(|k| text.contains(k.as_str())) {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for k in known.iter() {
        out = out.replace(k.as_str(), "[redacted]");
    }
    Cow::Owned(out)
}

impl Secret {
    /// A credential: remembered for [`scrub`].
    pub fn new(s: impl Into<String>) -> Secret {
        let s = s.into();
        register(&s);
        Secret(s)
    }
    /// A short-lived access token for one scope: not remembered (there may
    /// be thousands); it is sent only to the registry and its token realm.
    pub fn transient(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn never_printed() {
        let s = super::Secret::new("hunter2");
        assert!(!format!("{s:?} {s}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn scrubbed_in_every_form() {
        let _s = super::Secret::new("pa ss/w+rd\"x");
        let text = "echo: pa ss/w+rd\"x and pa+ss%2Fw%2Brd%22x and pa ss/w+rd\\\"x";
        let out = super::scrub(text);
        assert!(!out.contains("w+rd"), "{out}");
        assert!(!out.contains("w%2Brd"), "{out}");
        assert_eq!(super::scrub("nothing here"), "nothing here");
    }
}
