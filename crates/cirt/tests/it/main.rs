//! Integration tests of the CIRT desk.
