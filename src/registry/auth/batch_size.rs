//! How big a batch of repository scopes may be: bounded by the
//! Authorization header the token it buys will make.
//!
//! Every scope granted becomes an entry
//! `{"type":"repository","name":"<name>","actions":["pull","metadata_read"]}`
//! in the access token's `access` claim, and the token travels,
//! base64url-encoded, in the Authorization header of every request made
//! with it. ACR's front end is openresty (nginx: its answers carry
//! `Server: openresty`), whose default `large_client_header_buffers 4
//! 8k` answers 400 "Request Header Or Cookie Too Large" to a request with
//! one header line over 8 KiB. So a batch is bounded by the header its
//! token will make, estimated from the names' lengths.

use super::scopes::parse_scope;

/// nginx's default limit on one request header line (name, ": ", value).
pub const HEADER_LINE_LIMIT: usize = 8192;
/// Left free below the limit for what the estimate cannot know (the line's
/// CRLF, a token server that adds claims per entry).
const HEADER_MARGIN: usize = 512;
/// What a token carries beside its `access` claim, at least twice what ACR's
/// tokens measure (a recorded ACR anonymous catalog exchange: JWT header 127
/// base64url characters, RS256 signature 342, other claims 304 bytes of
/// JSON): a header with a longer `kid`, a signature with a 4096-bit key,
/// and claims naming a user or tenant.
const JWT_HEADER_B64: usize = 256;
const SIGNATURE_B64: usize = 683;
const OTHER_CLAIMS: usize = 768;
/// Repositories per token request in batch mode, whatever their length:
/// bounds the token server's work per request. With ACR's two actions the
/// header estimate binds first (about 60 one-letter names); with `pull`
/// alone this binds for names of up to about 15 characters.
pub const MAX_BATCH: usize = 64;
/// Bound on the scope parameters of one token request, URL-encoded: a GET
/// token request (Basic or anonymous) carries them in its request line,
/// which nginx bounds by the same 8 KiB buffer (414). Binds before the
/// header estimate only for names with many `/` (encoded as `%2F`).
pub const MAX_SCOPE_CHARS: usize = 4096;

/// The Authorization header line a token granting `scopes` is estimated
/// to make: `Authorization: Bearer <header>.<claims>.<signature>`, each
/// part base64url-encoded, the claims being the others plus `access`.
#[cfg(test)]
pub fn estimated_header(scopes: &[String]) -> usize {
    let mut size = BatchSize::default();
    for s in scopes {
        size.add(s);
    }
    size.header()
}

/// What a batch adds up to so far: its `access` claim and scope text.
#[derive(Default, Clone, Copy)]
pub struct BatchSize {
    /// JSON bytes of the entries, with the commas between them.
    access: usize,
    /// URL-encoded `scope=` parameters, with their `&`.
    scope_chars: usize,
}

impl BatchSize {
    pub fn add(&mut self, scope: &str) {
        self.access += access_entry_bytes(scope) + 1;
        self.scope_chars += "&scope=".len() + url_encoded_len(scope);
    }

    fn header(&self) -> usize {
        let b64 = |n: usize| (4 * n).div_ceil(3);
        // `[` and `]` around the entries (the last comma pays for one).
        let claims = OTHER_CLAIMS + self.access + 1;
        "Authorization: Bearer ".len() + b64(claims) + JWT_HEADER_B64 + SIGNATURE_B64 + 2
    }

    pub fn fits(&self, scope: &str) -> bool {
        let mut next = *self;
        next.add(scope);
        next.header() <= HEADER_LINE_LIMIT - HEADER_MARGIN && next.scope_chars <= MAX_SCOPE_CHARS
    }
}

/// The entry a scope becomes in the `access` claim:
/// `{"type":"<kind>","name":"<name>","actions":["<a>",...]}`. A `/` counts
/// twice: some JSON encoders write it `\/`.
fn access_entry_bytes(scope: &str) -> usize {
    let Some(a) = parse_scope(scope) else {
        return scope.len() + 34;
    };
    let name = a.name.len() + a.name.bytes().filter(|&b| b == b'/').count();
    let actions: usize = a.actions.iter().map(|x| x.len() + 3).sum::<usize>();
    r#"{"type":"","name":"","actions":[]}"#.len() + a.kind.len() + name + actions.saturating_sub(1)
}

/// Length of `s` in application/x-www-form-urlencoded form.
pub(super) fn url_encoded_len(s: &str) -> usize {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"*-._ ".contains(&b) {
                1
            } else {
                3
            }
        })
        .sum()
}
