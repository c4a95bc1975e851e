//! The single-check messages (OQSsiquc01): request parsing and response writing, in Shift_JIS or
//! UTF-8 as the request declares.

use crate::codes::*;
use crate::TerminalError;
use kakunin_core::consent::ConsentSelection;
use kakunin_core::eligibility::EligibilityResult;
use kakunin_core::medical_assistance::MedicalAssistance;
use serde::Deserialize;

/// Text encoding of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Shift_JIS, as the clinic software writes.
    ShiftJis,
    /// UTF-8.
    Utf8,
}

impl Encoding {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Encoding::ShiftJis => "Shift_JIS",
            Encoding::Utf8 => "UTF-8",
        }
    }

    /// `CharacterCodeIdentifier`: 0 UTF-8, 1 Shift_JIS.
    fn identifier(self) -> &'static str {
        match self {
            Encoding::Utf8 => "0",
            Encoding::ShiftJis => "1",
        }
    }
}

/// Reads the encoding declared in the XML prolog (UTF-8 when none is declared).
pub fn declared_encoding(bytes: &[u8]) -> Result<Encoding, TerminalError> {
    let head = &bytes[..bytes.len().min(200)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let Some(start) = head.find("encoding=") else {
        return Ok(Encoding::Utf8);
    };
    let rest = &head[start + 9..];
    let value: String = rest
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| *c != '"' && *c != '\'')
        .collect();
    match value.as_str() {
        "shift_jis" | "shift-jis" | "sjis" | "windows-31j" | "cp932" => Ok(Encoding::ShiftJis),
        "utf-8" | "utf8" => Ok(Encoding::Utf8),
        other => Err(TerminalError::Encoding(format!(
            "unsupported encoding {other:?}; use Shift_JIS or UTF-8"
        ))),
    }
}

/// Decodes `bytes` in the declared encoding; bytes that are not valid in it are an error (a
/// wrong declaration), never silently replaced.
pub fn decode(bytes: &[u8]) -> Result<(String, Encoding), TerminalError> {
    let enc = declared_encoding(bytes)?;
    let codec = match enc {
        Encoding::ShiftJis => encoding_rs::SHIFT_JIS,
        Encoding::Utf8 => encoding_rs::UTF_8,
    };
    let (text, had_errors) = codec.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(TerminalError::Encoding(format!(
            "the file is not valid {} as its declaration says",
            enc.label()
        )));
    }
    Ok((text.into_owned(), enc))
}

/// Encodes `text` for writing in `enc`.
///
/// Shift_JIS here is what the clinic programs decode under that label: Windows code page 932
/// (.NET's `shift_jis` in MynaReception and OQSDrug2, the WHATWG decoder behind myclinic-ts's
/// `TextDecoder`), so CP932's extensions (髙, 﨑, ①) are written as its bytes and read back
/// exactly. A character CP932 has no code for (𠮷, emoji) is written as an XML numeric character
/// reference (`&#134071;`): lossless, never `?` or `●`; .NET and Python XML parsers read it back as
/// the character (fast-xml-parser, as myclinic-ts configures it, keeps the reference as text).
/// Strict JIS X 0208 decoders (Python's `shift_jis`, iconv's `SHIFT_JIS`) refuse the CP932
/// extensions; read these files as `cp932`, as the peers do.
pub fn encode(text: &str, enc: Encoding) -> Vec<u8> {
    match enc {
        Encoding::ShiftJis => encoding_rs::SHIFT_JIS.encode(text).0.into_owned(),
        Encoding::Utf8 => text.as_bytes().to_vec(),
    }
}

#[derive(Deserialize)]
#[serde(rename = "XmlMsg")]
struct XmlMsg {
    #[serde(rename = "MessageHeader")]
    header: Header,
    #[serde(rename = "MessageBody")]
    body: Body,
}

#[derive(Deserialize)]
struct Header {
    #[serde(rename = "MedicalInstitutionCode")]
    medical_institution_code: Option<String>,
    #[serde(rename = "QualificationConfirmationDate")]
    confirmation_date: Option<String>,
    #[serde(rename = "ArbitraryFileIdentifier")]
    file_identifier: Option<String>,
}

#[derive(Deserialize)]
struct Body {
    #[serde(rename = "QualificationConfirmSearchInfo")]
    search: SearchInfo,
}

#[derive(Deserialize)]
struct SearchInfo {
    #[serde(rename = "InsurerNumber")]
    insurer_number: Option<String>,
    #[serde(rename = "InsuredCardSymbol")]
    symbol: Option<String>,
    #[serde(rename = "InsuredIdentificationNumber")]
    number: Option<String>,
    #[serde(rename = "InsuredBranchNumber")]
    branch: Option<String>,
    #[serde(rename = "Birthdate")]
    birthdate: Option<String>,
    #[serde(rename = "LimitApplicationCertificateRelatedConsFlg")]
    limit_consent: Option<String>,
}

/// A parsed single-check request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRequest {
    /// The asking institution's 医療機関コード.
    pub medical_institution_code: String,
    /// 資格確認日 (today when absent).
    pub confirmation_date: Option<chrono::NaiveDate>,
    /// 保険者番号.
    pub insurer_number: String,
    /// 記号.
    pub symbol: String,
    /// 番号.
    pub number: String,
    /// Two digits ("00" when absent).
    pub branch: String,
    /// The patient's birth date.
    pub birthdate: chrono::NaiveDate,
    /// The patient consented to limit-amount information.
    pub limit_consent: bool,
    /// The request file's encoding (the answer is written in the same).
    pub encoding: Encoding,
    /// `ArbitraryFileIdentifier`: the clinic software's own id of the request, echoed in the
    /// answer.
    pub file_identifier: Option<String>,
}

fn date(field: &str, v: &str) -> Result<chrono::NaiveDate, TerminalError> {
    chrono::NaiveDate::parse_from_str(v.trim(), "%Y%m%d")
        .map_err(|_| TerminalError::Field(format!("{field} {v:?} is not a yyyyMMdd date")))
}

/// Parses a request file's bytes.
pub fn parse_request(bytes: &[u8]) -> Result<CheckRequest, TerminalError> {
    let (text, encoding) = decode(bytes)?;
    let msg: XmlMsg =
        quick_xml::de::from_str(&text).map_err(|e| TerminalError::Xml(e.to_string()))?;
    let s = msg.body.search;
    let need = |name: &str, v: Option<String>| {
        v.map(|x| x.trim().to_owned())
            .filter(|x| !x.is_empty())
            .ok_or_else(|| TerminalError::Field(format!("{name} is missing")))
    };
    let branch = s
        .branch
        .map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "00".into());
    Ok(CheckRequest {
        medical_institution_code: need(
            "MedicalInstitutionCode",
            msg.header.medical_institution_code,
        )?,
        confirmation_date: msg
            .header
            .confirmation_date
            .as_deref()
            .filter(|d| !d.trim().is_empty())
            .map(|d| date("QualificationConfirmationDate", d))
            .transpose()?,
        insurer_number: need("InsurerNumber", s.insurer_number)?,
        symbol: s.symbol.unwrap_or_default().trim().to_owned(),
        number: need("InsuredIdentificationNumber", s.number)?,
        branch: if branch.len() == 1 {
            format!("0{branch}")
        } else {
            branch
        },
        birthdate: date("Birthdate", &need("Birthdate", s.birthdate)?)?,
        limit_consent: s.limit_consent.as_deref().map(str::trim) == Some("1"),
        encoding,
        file_identifier: msg
            .header
            .file_identifier
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty()),
    })
}

pub(crate) fn el(out: &mut String, name: &str, value: &str) {
    out.push_str(&format!(
        "<{name}>{}</{name}>",
        quick_xml::escape::escape(value)
    ));
}

/// The consent recorded with a check, as the response reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consents {
    /// A check by numbers: only the limit category can be consented to, at the desk.
    Desk {
        /// 限度額適用認定証情報の提供に同意.
        limit_amount: bool,
    },
    /// A card-reader visit: the patient's selection per category (clinical covers surgery).
    Card(ConsentSelection),
}

/// Consents and when they were given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentReport {
    /// What was consented.
    pub consents: Consents,
    /// When.
    pub at: chrono::NaiveDateTime,
    /// Electronic or paper prescription, as chosen at the reader (where the institution asks).
    pub prescription: Option<kakunin_core::prescription::PrescriptionForm>,
}

/// What to answer.
pub enum Answer<'a> {
    /// The check ran: a result, or no qualification found.
    Checked {
        /// The result, or none when no qualification was found.
        result: Option<&'a EligibilityResult>,
        /// Numbers (a `req/` check) or card (a `face/` file of a reader visit).
        by: ReferenceClassification,
        /// The consents, when the answer reports them.
        consent: Option<ConsentReport>,
    },
    /// The request could not be processed.
    Error {
        /// The error code written into the response.
        code: &'a str,
        /// What happened, for the clinic software's operator.
        message: &'a str,
    },
}

/// One consent flag (`…ConsFlg`) and, when consented, its time (`…ConsTime`).
fn consent_element(out: &mut String, name: &str, consented: bool, at: chrono::NaiveDateTime) {
    el(out, &format!("{name}ConsFlg"), consent_flag(consented));
    if consented {
        el(
            out,
            &format!("{name}ConsTime"),
            &at.format("%Y%m%d%H%M%S").to_string(),
        );
    }
}

fn consent_elements(out: &mut String, c: &ConsentReport) {
    match c.consents {
        Consents::Desk { limit_amount } => consent_element(
            out,
            "LimitApplicationCertificateRelated",
            limit_amount,
            c.at,
        ),
        Consents::Card(s) => {
            consent_element(
                out,
                "LimitApplicationCertificateRelated",
                s.limit_amount,
                c.at,
            );
            consent_element(out, "SpecificHealthCheckupsInfo", s.checkup, c.at);
            consent_element(out, "PharmaceuticalInfo", s.medication, c.at);
            consent_element(out, "DiagnosisInfo", s.clinical, c.at);
            consent_element(out, "OperationInfo", s.clinical, c.at);
        }
    }
}

/// What every answer's `MessageHeader` carries besides the result: the institution it answers
/// (the terminal's), the day eligibility was judged for, and the request's own file id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerHeader<'a> {
    /// `MedicalInstitutionCode`.
    pub institution: &'a str,
    /// `QualificationConfirmationDate`.
    pub confirmation_date: chrono::NaiveDate,
    /// `ArbitraryFileIdentifier`, echoed from the request.
    pub file_identifier: Option<&'a str>,
}

/// Writes `name` only when it has a value: the peers read an empty element as a value (an empty
/// time as "-00-00 00:00:00").
pub(crate) fn opt_el(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        el(out, name, v);
    }
}

/// Starts a message: the prolog and the whole `MessageHeader` (every header names the time, the
/// day, the institution and the character code and echoes the request's file id; an error
/// names its code and message; `extra` adds a kind's own header elements), up to and including
/// `<MessageBody>`.
pub(crate) fn open_message(
    header: &AnswerHeader<'_>,
    at: chrono::NaiveDateTime,
    enc: Encoding,
    by: ReferenceClassification,
    error: Option<(&str, &str)>,
    extra: impl FnOnce(&mut String),
) -> String {
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"{}\"?>\n<XmlMsg><MessageHeader>",
        enc.label()
    );
    el(
        &mut x,
        "ProcessExecutionTime",
        &at.format("%Y%m%d%H%M%S").to_string(),
    );
    el(
        &mut x,
        "QualificationConfirmationDate",
        &date_code(header.confirmation_date),
    );
    el(&mut x, "MedicalInstitutionCode", header.institution);
    opt_el(&mut x, "ArbitraryFileIdentifier", header.file_identifier);
    el(&mut x, "ReferenceClassification", by.code());
    match error {
        None => el(&mut x, "SegmentOfResult", SegmentOfResult::Ok.code()),
        Some((code, message)) => {
            el(&mut x, "SegmentOfResult", SegmentOfResult::Error.code());
            el(&mut x, "ErrorCode", code);
            el(&mut x, "ErrorMessage", message);
        }
    }
    el(&mut x, "CharacterCodeIdentifier", enc.identifier());
    extra(&mut x);
    x.push_str("</MessageHeader><MessageBody>");
    x
}

/// Writes the response XML (in `enc`), per SPEC §13, as the clinic programs read it: every
/// header names the date, the institution and the character code and echoes the request's file
/// id; an error answer still has its body's `ProcessingResultStatus`.
pub fn response(
    answer: Answer<'_>,
    header: &AnswerHeader<'_>,
    at: chrono::NaiveDateTime,
    enc: Encoding,
) -> Vec<u8> {
    let (by, error) = match &answer {
        Answer::Checked { by, .. } => (*by, None),
        Answer::Error { code, message } => {
            (ReferenceClassification::Numbers, Some((*code, *message)))
        }
    };
    let mut x = open_message(header, at, enc, by, error, |_| {});
    match answer {
        Answer::Error { .. } => el(&mut x, "ProcessingResultStatus", "2"),
        Answer::Checked {
            result, consent, ..
        } => {
            el(&mut x, "ProcessingResultStatus", "1");
            let validity = result
                .map(|r| QualificationValidity::from(r.validity))
                .unwrap_or(QualificationValidity::NotFound);
            el(&mut x, "QualificationValidity", validity.code());
            // 処方箋発行形態 as the reader's patient chose it (MessageBody/PrescriptionIssueSelect:
            // 1 electronic, 2 paper; myclinic-ts's onshi-result reads it there).
            if let Some(p) = consent.as_ref().and_then(|c| c.prescription) {
                el(&mut x, "PrescriptionIssueSelect", &p.code().to_string());
            }
            if let Some(r) = result {
                x.push_str("<ResultList><ResultOfQualificationConfirmation>");
                result_elements(&mut x, r, consent.as_ref());
                opt_el(&mut x, "ReferenceNumber", r.reference_number.as_deref());
                x.push_str("</ResultOfQualificationConfirmation></ResultList>");
            }
        }
    }
    x.push_str("</MessageBody></XmlMsg>\n");
    encode(&x, enc)
}

/// `NameKana` as the eligibility terminal writes it and the peers' fixtures hold it (myclinic-ts
/// `onshi-face.test.ts`: `ｼﾝﾘｮｳ ﾀﾛｳ`): half-width katakana, voiced marks as their own characters
/// (ガ → ｶﾞ), an ASCII space between family and given name. Characters without a half-width
/// form (ヰ, ヱ) stay as they are.
pub fn half_width_kana(kana: &str) -> String {
    let option = kelp::ConvOption {
        kana: true,
        ..Default::default()
    };
    kelp::z2h(&kana.replace('\u{3000}', " "), option)
}

/// The elements of one `ResultOfQualificationConfirmation`, optional ones only with a value.
fn result_elements(x: &mut String, r: &EligibilityResult, consent: Option<&ConsentReport>) {
    el(x, "InsuredCardClassification", "01");
    el(x, "InsurerNumber", &r.insurer_number);
    opt_el(x, "InsuredCardSymbol", Some(&r.symbol));
    el(x, "InsuredIdentificationNumber", &r.number);
    el(x, "InsuredBranchNumber", &r.branch);
    el(
        x,
        "PersonalFamilyClassification",
        &r.personal_family.to_string(),
    );
    el(x, "Name", &r.name);
    el(x, "NameKana", &half_width_kana(&r.name_kana));
    el(x, "Sex1", &r.sex.to_string());
    el(x, "Birthdate", &date_code(r.birth_date));
    opt_el(x, "Address", Some(&r.address));
    opt_el(x, "PostNumber", Some(&r.post_number));
    // The certificate (資格確認書 or card) is valid as long as the qualification: its dates are
    // the qualification's.
    el(x, "InsuredCardValidDate", &date_code(r.valid_from));
    opt_el(
        x,
        "InsuredCardExpirationDate",
        r.valid_to.map(date_code).as_deref(),
    );
    el(x, "QualificationDate", &date_code(r.valid_from));
    opt_el(
        x,
        "DisqualificationDate",
        r.valid_to.map(date_code).as_deref(),
    );
    // The peers read this ratio as the 後期高齢者 one (insurer numbers 39…): only there.
    if r.insurer_number.starts_with("39") {
        el(
            x,
            "InsuredPartialContributionRatio",
            &copay_code(r.copay_percent),
        );
    }
    el(x, "InsurerName", &r.insurer_name);
    if let Some(e) = &r.elderly_recipient {
        x.push_str("<ElderlyRecipientCertificateInfo>");
        // The issue date is not held; the certificate is issued for its start.
        el(
            x,
            "ElderlyRecipientCertificateDate",
            &date_code(e.valid_from),
        );
        el(
            x,
            "ElderlyRecipientValidStartDate",
            &date_code(e.valid_from),
        );
        el(x, "ElderlyRecipientValidEndDate", &date_code(e.valid_to));
        el(
            x,
            "ElderlyRecipientContributionRatio",
            &copay_code(e.copay_percent),
        );
        x.push_str("</ElderlyRecipientCertificateInfo>");
    }
    if let Some(c) = consent {
        consent_elements(x, c);
    }
    if let Some(limit) = r
        .limit_category
        .as_deref()
        .and_then(LimitClassification::parse)
    {
        x.push_str("<LimitApplicationCertificateRelatedInfo>");
        // The certificate's kind (01 限度額適用認定証, 02 with 標準負担額減額 for the
        // low-income categories); the category itself is the flag.
        el(
            x,
            "LimitApplicationCertificateClassification",
            limit.certificate_kind(),
        );
        el(
            x,
            "LimitApplicationCertificateClassificationFlag",
            limit.code(),
        );
        x.push_str("</LimitApplicationCertificateRelatedInfo>");
    }
    // 医療扶助: this month's ticket, for the institution it designates (others get none), as
    // open clinic software reads it (PublicExpenseResultList/MedicalTicketInfo).
    if let Some(MedicalAssistance::Ticket { ticket: t }) = &r.medical_assistance {
        x.push_str("<PublicExpenseResultList><MedicalTicketInfo>");
        el(x, "TicketType", &t.kind.code().to_string());
        el(x, "MedicalTicketValidDate", &date_code(t.valid_from));
        el(x, "MedicalTicketExpirationDate", &date_code(t.valid_to));
        el(x, "IssueNumber", &t.issue_number);
        el(
            x,
            "MedicalTreatmentMonth",
            &t.month.format("%Y%m").to_string(),
        );
        el(
            x,
            "DesignatedMedicalInstitutionCode",
            &t.designated_institution,
        );
        el(x, "DesignatedMedicalInstitutionName", &t.designated_name);
        el(x, "SelfPayAmount", &t.self_pay_amount.to_string());
        x.push_str("</MedicalTicketInfo></PublicExpenseResultList>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(xml: &str) -> String {
        let mut r = quick_xml::Reader::from_str(xml);
        let mut text = String::new();
        loop {
            match r.read_event().unwrap() {
                quick_xml::events::Event::Text(t) => text.push_str(&t.unescape().unwrap()),
                quick_xml::events::Event::Eof => return text,
                _ => {}
            }
        }
    }

    #[test]
    fn kana_is_written_half_width_as_the_peers_hold_it() {
        assert_eq!(half_width_kana("シンリョウ タロウ"), "ｼﾝﾘｮｳ ﾀﾛｳ");
        assert_eq!(half_width_kana("スズキ　エミコ"), "ｽｽﾞｷ ｴﾐｺ");
        assert_eq!(half_width_kana("パーク ヴィヰ"), "ﾊﾟｰｸ ｳﾞｨヰ");
        assert_eq!(half_width_kana("ｽｽﾞｷ"), "ｽｽﾞｷ", "already half-width");
    }

    #[test]
    fn cp932_extensions_round_trip_and_what_cp932_lacks_becomes_a_reference() {
        let bytes = encode("<Name>髙橋 﨑山 ① 𠮷野</Name>", Encoding::ShiftJis);
        // As the peers decode it (code page 932): the extensions come back exactly, the
        // character CP932 lacks as a reference an XML parser resolves.
        let (decoded, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
        assert!(!bad);
        assert!(
            decoded.contains("髙橋 﨑山 ①") && decoded.contains("&#134071;"),
            "{decoded}"
        );
        assert_eq!(text_of(&decoded), "髙橋 﨑山 ① 𠮷野");
        // 髙 is an IBM extension (a lead byte a strict JIS X 0208 decoder refuses): documented.
        assert!(bytes.windows(2).any(|w| w == [0xFB, 0xFC]), "{bytes:?}");
    }
}
