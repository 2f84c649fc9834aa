//! Platform code, behind `cfg`.
