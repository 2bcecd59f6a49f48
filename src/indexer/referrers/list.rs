//! Listing one subject's referrers: the API pages (or, after a 404, the
//! tag schema), each descriptor bounded, attestations read, nested
//! referrers followed to [`MAX_REFERRER_DEPTH`].

use super::*;

impl Referrers {
    /// The referrers of `subject` and, nested, of those; `api` turns false
    /// once the registry answers 404 (then the tag schema is read).
    pub(super) fn list<'a>(
        &'a self,
        fetcher: &'a Fetcher,
        repo: &'a str,
        tags: &'a HashMap<&str, &Digest>,
        subject: &'a Digest,
        depth: usize,
        api: &'a mut bool,
    ) -> BoxFuture<'a, Listed> {
        async move {
            let descriptors = self.descriptors(fetcher, repo, tags, subject, api).await?;
            let mut found: Found = Vec::new();
            let mut checked = vec![subject.clone()];
            for d in descriptors {
                if &d.digest == subject {
                    continue; // a referrer of itself (regclient's "mirror")
                }
                let record = self.record(fetcher, repo, d).await?;
                let digest = record.digest.clone();
                found.push((subject.clone(), record));
                if depth + 1 < MAX_REFERRER_DEPTH {
                    let (nested, also) = self
                        .list(fetcher, repo, tags, &digest, depth + 1, api)
                        .await?;
                    found.extend(nested);
                    checked.extend(also);
                }
            }
            Ok((found, checked))
        }
        .boxed()
    }

    async fn descriptors(
        &self,
        fetcher: &Fetcher,
        repo: &str,
        tags: &HashMap<&str, &Digest>,
        subject: &Digest,
        api: &mut bool,
    ) -> Result<Vec<Descriptor>, String> {
        let client = &fetcher.client;
        let what = |e: RegistryError| format!("referrers of {subject}: {e}");
        if *api {
            let mut url = client.referrers_url(repo, subject, None);
            let mut out = Vec::new();
            for page in 0.. {
                if page == MAX_PAGES {
                    return Err(format!(
                        "referrers of {subject}: more than {MAX_PAGES} pages"
                    ));
                }
                match client.referrers_page(repo, url).await.map_err(what)? {
                    Some(p) => {
                        out.extend(p.descriptors);
                        if out.len() > MAX_PER_SUBJECT {
                            return Err(format!(
                                "referrers of {subject}: more than {MAX_PER_SUBJECT}"
                            ));
                        }
                        match p.next {
                            Some(next) => url = next,
                            None => return Ok(out),
                        }
                    }
                    None if page == 0 => {
                        tracing::debug!(repository = %repo, "no referrers API; reading the tag schema");
                        *api = false;
                        break;
                    }
                    None => {
                        return Err(format!("referrers of {subject}: a next page answered 404"))
                    }
                }
            }
        }
        // The tag schema costs a request only where the listing has the tag.
        if !tags.contains_key(fallback_tag(subject).as_str()) {
            return Ok(Vec::new());
        }
        let found = client
            .referrers_tag(repo, subject)
            .await
            .map_err(what)?
            .unwrap_or_default();
        if found.len() > MAX_PER_SUBJECT {
            return Err(format!(
                "referrers of {subject}: more than {MAX_PER_SUBJECT}"
            ));
        }
        Ok(found)
    }

    /// A descriptor, bounded, and for attestations what their statement says.
    async fn record(
        &self,
        fetcher: &Fetcher,
        repo: &str,
        d: Descriptor,
    ) -> Result<ReferrerRecord, String> {
        let annotations: BTreeMap<String, String> = d
            .annotations
            .into_iter()
            .filter(|(k, v)| k.len() <= MAX_KEY && v.len() <= MAX_VALUE)
            .take(MAX_ANNOTATIONS)
            .collect();
        let artifact_type = d
            .artifact_type
            .filter(|t| !t.is_empty() && t.len() <= MAX_TYPE);
        let mut r = ReferrerRecord {
            created: annotations.get("org.opencontainers.image.created").cloned(),
            digest: d.digest,
            media_type: d.media_type.chars().take(MAX_TYPE).collect(),
            artifact_type,
            annotations,
            predicate_type: None,
            statement: None,
        };
        if may_hold_statement(r.artifact_type.as_deref()) {
            self.read_statement(fetcher, repo, &mut r).await?;
        }
        Ok(r)
    }

    pub(super) async fn read_statement(
        &self,
        fetcher: &Fetcher,
        repo: &str,
        r: &mut ReferrerRecord,
    ) -> Result<(), String> {
        if self.state.read.contains(&r.digest)
            || !self.read.lock().unwrap().insert(r.digest.clone())
        {
            return Ok(());
        }
        let s = referrers_statement::read(&fetcher.client, repo, &r.digest).await?;
        r.predicate_type = s.predicate_type;
        r.statement = s.slsa;
        Ok(())
    }
}
