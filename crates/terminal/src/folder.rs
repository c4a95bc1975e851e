//! The folder protocol: requests in `req/`, answers in `res/`, written atomically (temporary file
//! then rename), each request answered exactly once — an answered request is moved to
//! `req/.done/`, and an answer already in `res/` is never written twice, even across a restart.

use crate::codes::ReferenceClassification;
use crate::kinds::{self, OtherOutcome, OtherRequest};
use crate::message::{self, Answer, CheckRequest, ConsentReport, Consents};
use kakunin_core::consent::ConsentSelection;
use kakunin_core::eligibility::EligibilityResult;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

/// What the eligibility service said about one request.
pub enum CheckOutcome {
    /// A qualification answered the numbers.
    Found {
        /// The result.
        result: Box<EligibilityResult>,
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

    /// Answers a request of another kind ([`crate::kinds`]); a checker that cannot refuses it.
    fn other(&mut self, request: &OtherRequest) -> OtherOutcome {
        OtherOutcome::Refused {
            code: "KKN-E007".into(),
            message: format!("request kind {} is not answered here", request.kind),
        }
    }
}

/// The response to a checked request; `None` while the service is unavailable.
fn answer(
    req: &CheckRequest,
    outcome: CheckOutcome,
    institution: &str,
    now: chrono::NaiveDateTime,
) -> Option<Vec<u8>> {
    let header = message::AnswerHeader {
        institution,
        confirmation_date: req.confirmation_date.unwrap_or(now.date()),
        file_identifier: req.file_identifier.as_deref(),
    };
    Some(match outcome {
        CheckOutcome::Unavailable(_) => return None,
        CheckOutcome::Found { result } => message::response(
            Answer::Checked {
                result: Some(&result),
                by: ReferenceClassification::Numbers,
                consent: Some(ConsentReport {
                    consents: Consents::Desk {
                        limit_amount: req.limit_consent,
                    },
                    at: now,
                    prescription: None,
                }),
            },
            &header,
            now,
            req.encoding,
        ),
        CheckOutcome::NotFound => message::response(
            Answer::Checked {
                result: None,
                by: ReferenceClassification::Numbers,
                consent: None,
            },
            &header,
            now,
            req.encoding,
        ),
        CheckOutcome::Refused { code, message } => message::response(
            Answer::Error {
                code: &code,
                message: &message,
            },
            &header,
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

/// Largest request read (the peers' own limit is 4 MB): a larger one is answered with an error
/// without being read.
pub const MAX_REQUEST: u64 = 4 << 20;

/// How long a file that does not parse must have stood unchanged before it is answered as
/// malformed: a writer that pauses mid-file is waited for.
pub const QUIET: std::time::Duration = std::time::Duration::from_secs(2);

/// How long after answering a request it could not read the terminal still notices that its file
/// changed (the writer was not done) and answers it again.
const REANSWER_WINDOW: std::time::Duration = std::time::Duration::from_secs(30);

/// A request file's name: `<kind>req_<rest>.xml` (any letter case in `.xml`), where the kind is
/// e.g. `OQSsiquc01`; its answer is `<kind>res_<rest>.xml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestName {
    /// The request kind (`OQSsiquc01`, `YZKsiquc01`, …).
    pub kind: String,
    rest: String,
    ext: String,
}

impl RequestName {
    /// The request name in `name`, if it is one.
    pub fn parse(name: &str) -> Option<RequestName> {
        let (kind, tail) = name.split_once("req_")?;
        let (rest, ext) = tail.rsplit_once('.')?;
        let kind_ok = kind.len() == 10 && kind.bytes().all(|b| b.is_ascii_alphanumeric());
        (kind_ok && !rest.is_empty() && ext.eq_ignore_ascii_case("xml")).then(|| RequestName {
            kind: kind.to_owned(),
            rest: rest.to_owned(),
            ext: ext.to_owned(),
        })
    }

    /// The answer's file name.
    pub fn response(&self) -> String {
        format!("{}res_{}.{}", self.kind, self.rest, self.ext)
    }

    /// Whether this kind is a single eligibility check.
    fn is_single_check(&self) -> bool {
        self.kind == "OQSsiquc01"
    }
}

/// A request read and understood.
enum Parsed {
    /// A single check (checked together with the pass's others).
    Check(CheckRequest),
    /// Another kind (answered one by one).
    Other(Box<OtherRequest>),
}

impl Parsed {
    fn institution(&self) -> &str {
        match self {
            Parsed::Check(r) => &r.medical_institution_code,
            Parsed::Other(r) => &r.medical_institution_code,
        }
    }

    fn encoding(&self) -> message::Encoding {
        match self {
            Parsed::Check(r) => r.encoding,
            Parsed::Other(r) => r.encoding,
        }
    }
}

/// What looking at one request file came to.
enum Examined {
    /// Still being written, or new: looked at again next pass.
    Wait,
    /// Answered before a restart and not yet moved.
    Answered,
    /// Ready: the parsed request, or the error answer to give instead.
    Ready(Result<Parsed, Vec<u8>>),
}

/// A request file as last seen: its size and modification time.
type Seen = (u64, std::time::SystemTime);

/// A terminal folder.
pub struct Folder {
    dir: PathBuf,
    /// Size and time seen on the previous pass: a file is read only once they stopped changing.
    seen: HashMap<String, Seen>,
    /// Requests answered lately, as their files were then: one that changes afterwards (its
    /// writer was not done) is answered again.
    retired: HashMap<String, (Seen, std::time::Instant)>,
    /// The institution this terminal answers for (its 医療機関コード); requests naming another
    /// are refused. `None` answers for whatever a request names (tests, benchmarks).
    institution: Option<String>,
}

impl Folder {
    /// Opens `dir`, creating `req/`, `res/`, `face/` and the marker folder.
    pub fn open(dir: &Path) -> io::Result<Folder> {
        for sub in ["req", "res", "face", "req/.done", "face/.done"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        Ok(Folder {
            dir: dir.to_path_buf(),
            seen: HashMap::new(),
            retired: HashMap::new(),
            institution: None,
        })
    }

    /// Answers only for institution `code` (the terminal's): its code heads every answer and
    /// face/ file, and a request naming another institution is refused (KKN-E009).
    pub fn serving(mut self, code: &str) -> Folder {
        self.institution = Some(code.to_owned());
        self
    }

    /// One pass over `req/`: answers every request whose file is complete. The checks of one
    /// pass go to the checker together (it may run them concurrently); answers are written in
    /// name order. An answered request is moved to `req/.done/`, so `req/` holds only what is
    /// still pending and a pass costs the same however many requests were answered before.
    ///
    /// Every entry is hostile until checked: links and directories are never followed or read
    /// (answered with an error), a file over [`MAX_REQUEST`] is not read, and one bad entry
    /// never stalls the others. Only a failure to write into `res/` (a full disk) stops the pass.
    pub fn pass(
        &mut self,
        checker: &mut dyn Checker,
        now: chrono::NaiveDateTime,
    ) -> io::Result<Pass> {
        let mut pass = Pass::default();
        self.reopen_changed_answers();
        let mut names: Vec<(String, RequestName)> = std::fs::read_dir(self.dir.join("req"))?
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter_map(|n| RequestName::parse(&n).map(|r| (n, r)))
            .collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let mut ready: Vec<(String, RequestName, Result<Parsed, Vec<u8>>)> = vec![];
        for (name, request) in names {
            match self.examine(&name, &request, now) {
                Ok(Examined::Wait) => pass.waiting += 1,
                Ok(Examined::Answered) => self.retire(&name, false),
                Ok(Examined::Ready(r)) => ready.push((name, request, r)),
                Err(e) => {
                    // Gone or unreadable in between: looked at again next pass.
                    tracing::warn!(file = %name, error = %e, "request file not read this pass");
                    pass.waiting += 1;
                }
            }
        }
        let requests: Vec<CheckRequest> = ready
            .iter()
            .filter_map(|(_, _, r)| match r {
                Ok(Parsed::Check(c)) => Some(c.clone()),
                _ => None,
            })
            .collect();
        let mut outcomes = checker.check_all(&requests).into_iter();
        for (name, request, parsed) in ready {
            // Only a request that could not be read as one may have been unfinished (a complete
            // request parses): those are watched for a while after their answer.
            let watch = parsed.is_err();
            let body = match parsed {
                Err(error_response) => error_response,
                Ok(parsed) => {
                    let institution = self
                        .institution
                        .clone()
                        .unwrap_or_else(|| parsed.institution().to_owned());
                    let body = match parsed {
                        Parsed::Check(req) => {
                            let outcome = outcomes.next().unwrap_or_else(|| {
                                CheckOutcome::Unavailable("the checker gave no answer".into())
                            });
                            answer(&req, outcome, &institution, now)
                        }
                        Parsed::Other(req) => {
                            let outcome = checker.other(&req);
                            crate::replies::reply(&req, outcome, &institution, now)
                        }
                    };
                    match body {
                        Some(body) => body,
                        None => {
                            pass.deferred += 1;
                            continue;
                        }
                    }
                }
            };
            write_atomically(&self.dir.join("res"), &request.response(), &body)?;
            self.retire(&name, watch);
            pass.answered += 1;
        }
        Ok(pass)
    }

    /// Looks at request `name` without following links and without reading what is not a
    /// complete regular file of a bounded size.
    fn examine(
        &mut self,
        name: &str,
        request: &RequestName,
        now: chrono::NaiveDateTime,
    ) -> io::Result<Examined> {
        let path = self.dir.join("req").join(name);
        let meta = std::fs::symlink_metadata(&path)?;
        let own = self.institution.clone().unwrap_or_default();
        let error = |code: &str, message: &str, enc: message::Encoding| {
            let header = message::AnswerHeader {
                institution: &own,
                confirmation_date: now.date(),
                file_identifier: None,
            };
            Examined::Ready(Err(message::response(
                Answer::Error { code, message },
                &header,
                now,
                enc,
            )))
        };
        if !meta.file_type().is_file() {
            // A link (perhaps to a file outside the folder) or a directory: never opened.
            return Ok(error(
                "KKN-E006",
                "the request is not a regular file (a link or a directory); nothing was read. Write the request itself into req/",
                message::Encoding::ShiftJis,
            ));
        }
        let modified = meta.modified()?;
        if let Ok(res) = std::fs::symlink_metadata(self.dir.join("res").join(request.response())) {
            // Answered before a restart, not yet moved — unless the request is newer than its
            // answer: the same name dropped again, for another patient.
            if res.modified()? >= modified {
                return Ok(Examined::Answered);
            }
        }
        let size = meta.len();
        if self.seen.insert(name.to_owned(), (size, modified)) != Some((size, modified))
            || size == 0
        {
            return Ok(Examined::Wait);
        }
        if size > MAX_REQUEST {
            return Ok(error(
                "KKN-E008",
                &format!("the request is {size} bytes, more than the {MAX_REQUEST} a request may have; nothing was read"),
                message::Encoding::ShiftJis,
            ));
        }
        let bytes = read_regular(&path, MAX_REQUEST)?;
        let encoding = message::declared_encoding(&bytes).unwrap_or(message::Encoding::Utf8);
        let parsed = if request.is_single_check() {
            message::parse_request(&bytes).map(Parsed::Check)
        } else if kinds::answered(&request.kind) {
            kinds::parse(&request.kind, &bytes).map(|r| Parsed::Other(Box::new(r)))
        } else {
            return Ok(error("KKN-E007", &kinds::refusal(&request.kind), encoding));
        };
        match parsed {
            Ok(req) if !own.is_empty() && own != req.institution() => Ok(error(
                "KKN-E009",
                &format!(
                    "the request names institution {:?}; this terminal answers for {own}",
                    req.institution()
                ),
                req.encoding(),
            )),
            Ok(req) => Ok(Examined::Ready(Ok(req))),
            // A writer may have paused mid-file: a file that does not parse is answered only
            // once it has stood unchanged for QUIET.
            Err(_) if modified.elapsed().unwrap_or_default() < QUIET => Ok(Examined::Wait),
            Err(e) => Ok(error(e.code(), &e.to_string(), encoding)),
        }
    }

    /// Moves an answered request to `req/.done/` (a failure is logged: the answer is written,
    /// and the request is recognised as answered on the next pass).
    fn retire(&mut self, name: &str, watch: bool) {
        let from = self.dir.join("req").join(name);
        let seen = watch
            .then(|| std::fs::symlink_metadata(&from).ok())
            .flatten()
            .and_then(|m| Some((m.len(), m.modified().ok()?)));
        match std::fs::rename(&from, self.dir.join("req/.done").join(name)) {
            Ok(()) => {
                if let Some(seen) = seen {
                    self.retired
                        .insert(name.to_owned(), (seen, std::time::Instant::now()));
                }
            }
            Err(e) => {
                tracing::warn!(file = %name, error = %e, "answered request not moved to .done")
            }
        }
        self.seen.remove(name);
    }

    /// Unreadable requests answered in the last half minute whose file changed since (the writer was still at
    /// it: the same inode moved to `.done` kept growing) go back to `req/` to be answered again.
    fn reopen_changed_answers(&mut self) {
        self.retired
            .retain(|_, (_, at)| at.elapsed() < REANSWER_WINDOW);
        let changed: Vec<String> = self
            .retired
            .iter()
            .filter(|(name, (seen, _))| {
                std::fs::symlink_metadata(self.dir.join("req/.done").join(name))
                    .ok()
                    .and_then(|m| Some((m.len(), m.modified().ok()?)))
                    .is_some_and(|now| now != *seen)
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in changed {
            self.retired.remove(&name);
            let back = self.dir.join("req").join(&name);
            if std::fs::symlink_metadata(&back).is_err() {
                if let Err(e) = std::fs::rename(self.dir.join("req/.done").join(&name), &back) {
                    tracing::warn!(file = %name, error = %e, "changed request not taken back");
                }
            }
        }
    }

    /// The folder's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
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
        // As the eligibility terminal names them (MynaReception's example:
        // `OQSsiquc01res_face_27142063864da5260a16de5a3d3ad7_20260929160112.xml`): the
        // institution's code and the check's own id run together, then the time; readers take
        // `OQSsiquc01res_face_*_<yyyyMMddHHmmss>.xml` and today's date from the name.
        let name = format!(
            "{FACE_PREFIX}{}{}_{}.xml",
            self.institution.as_deref().unwrap_or_default(),
            visit
                .visit_id
                .trim_start_matches("v-")
                .replace(['-', '_'], ""),
            now.format("%Y%m%d%H%M%S")
        );
        let header = message::AnswerHeader {
            institution: self.institution.as_deref().unwrap_or_default(),
            confirmation_date: visit.consented_at.date(),
            file_identifier: None,
        };
        let body = message::response(
            Answer::Checked {
                result: Some(visit.result),
                by: ReferenceClassification::Card,
                consent: Some(ConsentReport {
                    consents: Consents::Card(visit.consent),
                    at: visit.consented_at,
                    prescription: visit.prescription,
                }),
            },
            &header,
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
    /// Electronic or paper prescription, as the patient chose at the reader.
    pub prescription: Option<kakunin_core::prescription::PrescriptionForm>,
}

/// Reads the regular file at `path`, never through a link, at most `limit` bytes.
fn read_regular(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.file_type().is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let mut bytes = vec![];
    file.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Writes `dir/name` so that readers see either nothing or the whole file: into a temporary file
/// of its own (created exclusively, so nothing planted at its name is followed or overwritten),
/// then renamed into place.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // Short, whatever the name's length: a name near 255 bytes leaves no room for a suffix.
    let tmp = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|_| std::fs::rename(&tmp, dir.join(name)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
