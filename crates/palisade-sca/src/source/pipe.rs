//! Decompression ahead of the reader, on a helper thread.
//!
//! Inflating a gzip layer is most of an image scan and cannot be split
//! (one deflate stream; rapidgzip-style speculative decoding loses to
//! plain zlib-rs on two cores). What can overlap is everything else: while
//! the helper inflates the next chunks, the caller parses tar headers and
//! writes the wanted files. Memory stays bounded: at most [`DEPTH`] chunks
//! wait in the channel, and their buffers are reused.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Bytes per chunk handed over.
const CHUNK: usize = 1024 * 1024;
/// Chunks decompressed ahead of the reader.
const DEPTH: usize = 4;

/// What the helper sends: data, the end (an empty chunk), or its error.
type Chunk = io::Result<Vec<u8>>;

/// The decompressed stream, read on the caller's thread.
#[derive(Debug)]
pub struct Pipe {
    chunks: Option<Receiver<Chunk>>,
    /// Emptied buffers go back to the helper.
    spare: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
    done: bool,
    /// The helper's error, returned again on every later read: a reader
    /// that retries must not see a clean end of a corrupt layer.
    failed: Option<(io::ErrorKind, String)>,
    helper: Option<JoinHandle<()>>,
}

impl Pipe {
    /// Starts reading `source` on a helper thread.
    pub fn spawn<R: Read + Send + 'static>(source: R) -> io::Result<Pipe> {
        let (tx, chunks) = sync_channel(DEPTH);
        let (spare, spares) = sync_channel(DEPTH + 2);
        let helper = std::thread::Builder::new()
            .name("layer-decompress".into())
            .spawn(move || pump(source, &tx, &spares))?;
        Ok(Pipe {
            chunks: Some(chunks),
            spare,
            current: Vec::new(),
            at: 0,
            done: false,
            failed: None,
            helper: Some(helper),
        })
    }
}

/// The helper: full chunks until the end or an error, each sent once; it
/// stops as soon as the reader is gone.
fn pump<R: Read>(mut source: R, tx: &SyncSender<Chunk>, spares: &Receiver<Vec<u8>>) {
    loop {
        let mut buf = spares.try_recv().unwrap_or_default();
        buf.resize(CHUNK, 0);
        let mut filled = 0;
        while let Some(rest) = buf.get_mut(filled..).filter(|r| !r.is_empty()) {
            match source.read(rest) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // What came before the error, then the error.
                    buf.truncate(filled);
                    if filled == 0 || tx.send(Ok(buf)).is_ok() {
                        let _ = tx.send(Err(e));
                    }
                    return;
                }
            }
        }
        buf.truncate(filled);
        let end = filled < CHUNK;
        if filled > 0 && tx.send(Ok(buf)).is_err() {
            return;
        }
        if end {
            let _ = tx.send(Ok(Vec::new()));
            return;
        }
    }
}

impl Read for Pipe {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(have) = self.current.get(self.at..).filter(|h| !h.is_empty()) {
                let n = have.len().min(out.len());
                if let (Some(dst), Some(src)) = (out.get_mut(..n), have.get(..n)) {
                    dst.copy_from_slice(src);
                }
                self.at += n;
                return Ok(n);
            }
            if let Some((kind, message)) = &self.failed {
                return Err(io::Error::new(*kind, message.clone()));
            }
            if self.done || out.is_empty() {
                return Ok(0);
            }
            let used = std::mem::take(&mut self.current);
            if used.capacity() > 0 {
                let _ = self.spare.try_send(used);
            }
            self.at = 0;
            let next = match &self.chunks {
                Some(rx) => rx.recv(),
                None => return Ok(0),
            };
            match next {
                Ok(Ok(chunk)) if chunk.is_empty() => self.done = true,
                Ok(Ok(chunk)) => self.current = chunk,
                Ok(Err(e)) => self.failed = Some((e.kind(), e.to_string())),
                // The helper ended without saying so: it panicked.
                Err(_) => {
                    self.failed = Some((
                        io::ErrorKind::Other,
                        "layer decompression stopped unexpectedly".into(),
                    ));
                }
            }
        }
    }
}

impl Drop for Pipe {
    /// Closing the channel first makes a helper that is waiting to send
    /// stop, so the join cannot hang.
    fn drop(&mut self) {
        self.chunks = None;
        if let Some(h) = self.helper.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_every_byte_in_order() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            let mut out = Vec::new();
            Pipe::spawn(io::Cursor::new(data.clone()))
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out.len(), len);
            assert!(out == data, "bytes differ at length {len}");
        }
    }

    /// Fails after `ok` bytes.
    struct Failing {
        ok: usize,
    }

    impl Read for Failing {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.ok == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "corrupt deflate stream",
                ));
            }
            let n = self.ok.min(out.len());
            self.ok -= n;
            Ok(n)
        }
    }

    #[test]
    fn the_helpers_error_reaches_the_reader() {
        let mut p = Pipe::spawn(Failing { ok: CHUNK + 5 }).unwrap();
        let mut out = Vec::new();
        let e = p.read_to_end(&mut out).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert_eq!(e.to_string(), "corrupt deflate stream");
        assert_eq!(out.len(), CHUNK + 5, "every byte before the error");
        let again = p.read(&mut [0u8; 8]).unwrap_err();
        assert_eq!(
            again.to_string(),
            "corrupt deflate stream",
            "not a clean end"
        );
    }

    #[test]
    fn dropping_the_reader_early_stops_the_helper() {
        let (done, dropped) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut p = Pipe::spawn(io::repeat(1)).unwrap();
            let mut some = [0u8; 10];
            p.read_exact(&mut some).unwrap();
            drop(p); // joins the helper
            let _ = done.send(());
        });
        let stopped = dropped.recv_timeout(std::time::Duration::from_secs(30));
        assert!(stopped.is_ok(), "the helper kept going after the drop");
    }
}
