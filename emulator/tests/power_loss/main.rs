//! Power-loss simulation of the local store. `crash.rs` SIGKILLs the process, which keeps
//! the page cache; a power cut does not. Here the store runs over the recording file-system
//! layer (`store::fs_trace::TraceFs`), each operation's trace is turned into every state
//! the disk may hold after a power cut at any point of it, the store is reopened on each
//! state, and the crash harness's invariants are checked:
//!
//! - the store opens (start-up recovery succeeds);
//! - every acknowledged write reads back whole with its bytes; an unacknowledged one reads
//!   as the previous version or the new one, whole — never torn;
//! - an acknowledged delete stays deleted;
//! - after recovery `tmp/` is empty and every body file in `data/` is named by a record.
//!
//! # The crash model
//!
//! The state before the operation is durable (the setup is taken as synced). The trace of
//! the operation is cut after each of its steps; for each cut, every combination of:
//!
//! - **file data**: a file's bytes up to its last `fsync`/`fdatasync` are kept; of the
//!   writes after it, a prefix is kept (all, none, or up to any write boundary);
//! - **directory entries** (create, mkdir, rename, unlink, rmdir): each directory's entry
//!   operations are kept as a prefix of their order, at least up to the directory's last
//!   fsync. A rename belongs to its destination directory (it is atomic: kept, the source
//!   name goes with it); fsyncing only its source does not make it durable, the stricter
//!   reading of POSIX than ext4's or XFS's ordered journal. The choice is then closed
//!   under order: an operation kept keeps every earlier entry operation of the same
//!   directory and every earlier operation on the same inode (its creation).
//!
//! Directories are modelled as inodes, so an unlink inside a directory that was renamed
//! (a claimed multipart upload) is the directory's own entry change, not its old path's.
//! The choices are order-preserving (no reordering within a directory, no torn write
//! inside one `write` call); states are deduplicated by content before the store opens.
//!
//! Disk faults: the same layer fails the Nth write, fsync, new entry (create, rename) or
//! read with ENOSPC or EIO; the store answers an error, keeps the previous version whole,
//! leaves no temporary file, and works again once the fault is gone.

// The integration tests' harness: this binary uses its server and raw client only.
#[allow(dead_code)]
#[path = "../integration/common.rs"]
mod common;
mod crash_states;
mod faults;
mod model;
mod objects;
