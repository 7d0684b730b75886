//! Integration tests of the core: the encrypted store as a user meets it.

mod advice;
mod backup;
mod carers;
mod crash;
mod damage;
mod migrations;
mod stderr;
mod store;
