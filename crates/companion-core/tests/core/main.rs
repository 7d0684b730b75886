//! Integration tests of the core: the encrypted store as a user meets it.

mod store;
mod crash;
mod migrations;
mod stderr;
mod advice;
mod carers;
