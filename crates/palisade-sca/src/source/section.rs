//! A byte range of a file (an image blob, or a layer inside an image
//! tarball), read positionally through its own buffer.
//!
//! Uncompressed layers are walked with seeks over the file contents nobody
//! reads: reading and discarding them was a fifth of a docker-archive scan
//! (kernel copies). A seek that lands inside the buffer costs nothing,
//! which matters because tar skips many small entries.

use std::fs::File;
use std::io::{self, BufRead, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;

/// Bytes read from the file at a time.
const BUFFER: usize = 64 * 1024;

/// `len` bytes of `file` from `start`, as a reader that can seek.
#[derive(Debug)]
pub struct Section {
    file: File,
    start: u64,
    len: u64,
    /// Position, relative to `start`.
    pos: u64,
    buf: Vec<u8>,
    /// Position of `buf[0]`, relative to `start`.
    buf_at: u64,
}

impl Section {
    /// `len` bytes from `start`.
    pub fn new(file: File, start: u64, len: u64) -> Section {
        Section {
            file,
            start,
            len,
            pos: 0,
            buf: Vec::new(),
            buf_at: 0,
        }
    }

    /// The whole file.
    pub fn whole(file: File) -> io::Result<Section> {
        let len = file.metadata()?.len();
        Ok(Section::new(file, 0, len))
    }

    /// The buffered bytes from `pos` on.
    fn buffered(&self) -> &[u8] {
        let skip = self
            .pos
            .checked_sub(self.buf_at)
            .and_then(|d| usize::try_from(d).ok());
        match skip {
            Some(skip) => self.buf.get(skip..).unwrap_or_default(),
            None => &[],
        }
    }

    /// Reads at `pos` into `out`, straight from the file.
    fn read_direct(&self, out: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(out.len());
        let Some(out) = out.get_mut(..want) else {
            return Ok(0);
        };
        loop {
            match self.file.read_at(out, self.start.saturating_add(self.pos)) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => return r,
            }
        }
    }
}

impl BufRead for Section {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.buffered().is_empty() {
            let mut buf = std::mem::take(&mut self.buf);
            buf.resize(BUFFER, 0);
            let got = self.read_direct(&mut buf);
            buf.truncate(got.as_ref().map_or(0, |n| *n));
            self.buf = buf;
            self.buf_at = self.pos;
            got?;
        }
        Ok(self.buffered())
    }

    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.buffered().len());
        self.pos = self.pos.saturating_add(amt as u64);
    }
}

impl Read for Section {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        // Large reads bypass the buffer once it is used up.
        if self.buffered().is_empty() && out.len() >= BUFFER {
            let n = self.read_direct(out)?;
            self.pos = self.pos.saturating_add(n as u64);
            return Ok(n);
        }
        let have = self.fill_buf()?;
        let n = have.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), have.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.consume(n);
        Ok(n)
    }
}

impl Seek for Section {
    /// Seeking past the end is an error, not a later empty read: tar skips
    /// entry contents by seeking, and a skip that leaves the section means
    /// the archive is truncated.
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
        };
        match target {
            Some(p) if p <= self.len => {
                self.pos = p;
                Ok(p)
            }
            Some(_) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "unexpected EOF during skip",
            )),
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the section",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_of(bytes: &[u8]) -> File {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    #[test]
    fn reads_only_its_range_and_seeks_within_it() {
        let data: Vec<u8> = (0..=255u8).cycle().take(3 * BUFFER).collect();
        let mut s = Section::new(file_of(&data), 10, 2 * BUFFER as u64);
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        assert_eq!(all, data[10..10 + 2 * BUFFER]);

        s.seek(SeekFrom::Start(5)).unwrap();
        let mut three = [0u8; 3];
        s.read_exact(&mut three).unwrap();
        assert_eq!(three, data[15..18]);
        // Forward and back inside the buffer, then a large direct read.
        assert_eq!(s.seek(SeekFrom::Current(100)).unwrap(), 108);
        assert_eq!(s.seek(SeekFrom::Current(-8)).unwrap(), 100);
        let mut big = vec![0u8; BUFFER + 7];
        s.seek(SeekFrom::Start(BUFFER as u64 - 10)).unwrap();
        s.read_exact(&mut big).unwrap();
        assert_eq!(big, data[BUFFER..2 * BUFFER + 7]);
        assert_eq!(s.read(&mut three).unwrap(), 3);
        assert_eq!(s.read(&mut three).unwrap(), 0, "end of the section");
    }

    #[test]
    fn seeking_past_the_end_is_a_truncation() {
        let mut s = Section::new(file_of(b"0123456789"), 2, 5);
        assert_eq!(s.seek(SeekFrom::End(0)).unwrap(), 5);
        let e = s.seek(SeekFrom::Current(1)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        assert!(s.seek(SeekFrom::Current(-6)).is_err());
        // A section longer than its file reads short, never past the file.
        let mut long = Section::new(file_of(b"abc"), 1, 100);
        let mut out = Vec::new();
        long.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"bc");
    }
}
