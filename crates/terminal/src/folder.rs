//! The folder protocol: requests in `req/`, answers in `res/`, written atomically (temporary file
//! then rename), each request answered exactly once — an answered request is moved to
//! `req/.done/`, and an answer already in `res/` is never written twice, even across a restart.

use crate::codes::ReferenceClassification;
use crate::message::{self, Answer, CheckRequest, ConsentReport, Consents};
use kakunin_core::consent::ConsentSelection;
use kakunin_core::eligibility::EligibilityResult;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

/// Request file name prefix.
pub const REQ_PREFIX: &str = "OQSsiquc01req_";
/// Response file name prefix.
pub const RES_PREFIX: &str = "OQSsiquc01res_";

/// What the eligibility service said about one request.
pub enum CheckOutcome {
    /// A qualification answered the numbers.
    Found {
        /// The result.
        result: Box<EligibilityResult>,
        /// The service's reference for this check.
        reference_number: String,
    },
    /// No qualification matches the numbers.
    NotFound,
    /// Refused with a clear reason (bad check digit, unknown insurer…): answered as an error.
    Refused {
        /// The service's error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// The service could not be reached: the request stays and is tried again later.
    Unavailable(String),
}

/// Asks the eligibility service.
pub trait Checker {
    /// Checks one request.
    fn check(&mut self, request: &CheckRequest) -> CheckOutcome;

    /// Checks several requests, answering in the same order. One by one unless the checker
    /// can do better (the HTTP checker runs them concurrently).
    fn check_all(&mut self, requests: &[CheckRequest]) -> Vec<CheckOutcome> {
        requests.iter().map(|r| self.check(r)).collect()
    }
}

/// The response to a checked request; `None` while the service is unavailable.
fn answer(
    req: &CheckRequest,
    outcome: CheckOutcome,
    now: chrono::NaiveDateTime,
) -> Option<Vec<u8>> {
    Some(match outcome {
        CheckOutcome::Unavailable(_) => return None,
        CheckOutcome::Found {
            result,
            reference_number,
        } => message::response(
            Answer::Checked {
                result: Some(&result),
                reference_number: &reference_number,
                by: ReferenceClassification::Numbers,
                consent: Some(ConsentReport {
                    consents: Consents::Desk {
                        limit_amount: req.limit_consent,
                    },
                    at: now,
                }),
            },
            now,
            req.encoding,
        ),
        CheckOutcome::NotFound => message::response(
            Answer::Checked {
                result: None,
                reference_number: "",
                by: ReferenceClassification::Numbers,
                consent: None,
            },
            now,
            req.encoding,
        ),
        CheckOutcome::Refused { code, message } => message::response(
            Answer::Error {
                code: &code,
                message: &message,
            },
            now,
            req.encoding,
        ),
    })
}

/// Counts of one pass.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pass {
    /// Requests answered (a response file written).
    pub answered: usize,
    /// Seen for the first time or still growing: looked at again next pass.
    pub waiting: usize,
    /// The service was unavailable: kept for a later pass.
    pub deferred: usize,
}

/// A terminal folder.
pub struct Folder {
    dir: PathBuf,
    /// Sizes seen on the previous pass: a file is read only once its size stopped changing.
    sizes: HashMap<PathBuf, u64>,
}

impl Folder {
    /// Opens `dir`, creating `req/`, `res/`, `face/` and the marker folder.
    pub fn open(dir: &Path) -> io::Result<Folder> {
        for sub in ["req", "res", "face", "req/.done", "face/.done"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        Ok(Folder {
            dir: dir.to_path_buf(),
            sizes: HashMap::new(),
        })
    }

    /// One pass over `req/`: answers every request whose file is complete. The checks of one
    /// pass go to the checker together (it may run them concurrently); answers are written in
    /// name order. An answered request is moved to `req/.done/`, so `req/` holds only what is
    /// still pending and a pass costs the same however many requests were answered before.
    pub fn pass(
        &mut self,
        checker: &mut dyn Checker,
        now: chrono::NaiveDateTime,
    ) -> io::Result<Pass> {
        let mut pass = Pass::default();
        let mut names: Vec<String> = std::fs::read_dir(self.dir.join("req"))?
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| n.starts_with(REQ_PREFIX) && n.ends_with(".xml"))
            .collect();
        names.sort();
        // Ready requests: (name, the parsed request or the response to an unparsable one).
        let mut ready: Vec<(String, Result<CheckRequest, Vec<u8>>)> = vec![];
        for name in names {
            let path = self.dir.join("req").join(&name);
            if self.res_path(&name).exists() {
                // Answered before a restart, not yet moved.
                self.retire(&name)?;
                continue;
            }
            let size = std::fs::metadata(&path)?.len();
            if self.sizes.insert(path.clone(), size) != Some(size) || size == 0 {
                pass.waiting += 1;
                continue;
            }
            let bytes = std::fs::read(&path)?;
            ready.push((
                name,
                message::parse_request(&bytes).map_err(|e| {
                    message::response(
                        Answer::Error {
                            code: e.code(),
                            message: &e.to_string(),
                        },
                        now,
                        message::declared_encoding(&bytes).unwrap_or(message::Encoding::Utf8),
                    )
                }),
            ));
        }
        let requests: Vec<CheckRequest> = ready
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok().cloned())
            .collect();
        let mut outcomes = checker.check_all(&requests).into_iter();
        for (name, parsed) in ready {
            let body = match parsed {
                Err(error_response) => error_response,
                Ok(req) => {
                    let outcome = outcomes.next().unwrap_or_else(|| {
                        CheckOutcome::Unavailable("the checker gave no answer".into())
                    });
                    match answer(&req, outcome, now) {
                        Some(body) => body,
                        None => {
                            pass.deferred += 1;
                            continue;
                        }
                    }
                }
            };
            let res_name = format!("{RES_PREFIX}{}", &name[REQ_PREFIX.len()..]);
            write_atomically(&self.dir.join("res"), &res_name, &body)?;
            self.retire(&name)?;
            self.sizes.remove(&self.dir.join("req").join(&name));
            pass.answered += 1;
        }
        Ok(pass)
    }

    fn res_path(&self, req_name: &str) -> PathBuf {
        let res_name = format!("{RES_PREFIX}{}", &req_name[REQ_PREFIX.len()..]);
        self.dir.join("res").join(res_name)
    }

    /// Moves an answered request to `req/.done/`.
    fn retire(&self, name: &str) -> io::Result<()> {
        std::fs::rename(
            self.dir.join("req").join(name),
            self.dir.join("req/.done").join(name),
        )
    }

    /// Whether the `face/` file of `visit_id` was written.
    pub fn face_written(&self, visit_id: &str) -> bool {
        self.dir.join("face/.done").join(visit_id).exists()
    }

    /// Writes the `face/` file of a completed card-reader visit, once: answers `false` when it
    /// was written before (a marker in `face/.done/` records it, across restarts).
    pub fn write_face_result(
        &self,
        visit: &CardVisit<'_>,
        now: chrono::NaiveDateTime,
    ) -> io::Result<bool> {
        // The id becomes part of a file name: never a path.
        if visit.visit_id.is_empty()
            || !visit
                .visit_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("visit id {:?} cannot name a file", visit.visit_id),
            ));
        }
        let marker = self.dir.join("face/.done").join(visit.visit_id);
        if marker.exists() {
            return Ok(false);
        }
        let name = format!(
            "{FACE_PREFIX}{}_{}.xml",
            visit.visit_id,
            now.format("%Y%m%d%H%M%S")
        );
        let body = message::response(
            Answer::Checked {
                result: Some(visit.result),
                reference_number: visit.visit_id,
                by: ReferenceClassification::Card,
                consent: Some(ConsentReport {
                    consents: Consents::Card(visit.consent),
                    at: visit.consented_at,
                }),
            },
            now,
            message::Encoding::ShiftJis,
        );
        write_atomically(&self.dir.join("face"), &name, &body)?;
        std::fs::write(&marker, b"")?;
        Ok(true)
    }
}

/// Face-file name prefix (a card-reader check).
pub const FACE_PREFIX: &str = "OQSsiquc01res_face_";

/// A completed card-reader visit, for its `face/` file.
pub struct CardVisit<'a> {
    /// The visit.
    pub visit_id: &'a str,
    /// Its eligibility result.
    pub result: &'a EligibilityResult,
    /// The patient's consent selection.
    pub consent: ConsentSelection,
    /// Local time of the consent.
    pub consented_at: chrono::NaiveDateTime,
}

/// Writes `dir/name` so that readers see either nothing or the whole file.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let result = std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, dir.join(name)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
