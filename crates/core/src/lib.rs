//! The domain rules of kakunin, in one place and free of I/O.
//!
//! Everything a handler, a screen or the card-reader agent decides about cards, PINs, identity
//! verification, insurance-use registration, services, visits and the audit chain is decided here.
//! The names follow SPEC.md §1: `CardKind::FaceAuth` is a 顔認証マイナンバーカード, a `Visit` is a
//! 受付, and so on. Callers persist and transport; they never re-implement a rule.

#![deny(missing_docs)]

pub mod audit;
pub mod card;
pub mod card_face;
pub mod certificate;
pub mod consent;
pub mod declaration;
pub mod documents;
pub mod eligibility;
mod error;
pub mod matrix;
pub mod medical_assistance;
pub mod numbers;
pub mod prescription;
pub mod public_expense;
pub mod reference;
pub mod roles;
pub mod visit;
pub mod wareki;

pub use error::{DomainError, ErrorCode};
