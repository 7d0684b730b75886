//! The clinic server and the device's sync engine together: a real server on loopback, real
//! diaries, and a fault-injecting proxy between them.

mod access;
mod attacks;
mod care;
mod carers;
mod conformance;
mod going_home;
mod harness;
mod limits;
mod pairing;
mod restart;
mod sync;
