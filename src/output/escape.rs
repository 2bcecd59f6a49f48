//! Text from a registry (label keys and values, repository names, tags,
//! platforms, error messages) is hostile: a value holding ESC, CR or BEL
//! could rewrite a terminal. Every text output passes through [`control`],
//! which escapes control characters only, so `O'Reilly` and `Zürich` stay
//! as they are and only what a terminal would act on becomes visible.

use std::borrow::Cow;

/// Whether a terminal would act on `c` rather than print it: C0 controls,
/// DEL, C1 controls, and the bidirectional overrides that reorder a line.
pub fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// `s` with each control character written as `\n`, `\t`, `\r` or `\u{1b}`.
pub fn control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push(&mut out, c);
    }
    Cow::Owned(out)
}

fn push(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if is_control(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        c => out.push(c),
    }
}

/// A whole log or error line: like [`control`], but the line's own final
/// newline is kept and, when `keep_sgr`, the colour sequences the logger
/// itself wrote (`ESC [ digits ; m`) pass. Values inside the line had
/// ESC escaped already by tracing, so a raw ESC here is the logger's own.
pub fn line(s: &str, keep_sgr: bool) -> String {
    let body = s.strip_suffix('\n');
    let text = body.unwrap_or(s);
    let mut out = String::with_capacity(s.len() + 8);
    for (i, c) in text.char_indices() {
        if c == '\x1b' && keep_sgr && is_sgr(&text[i..]) {
            out.push(c);
            continue;
        }
        push(&mut out, c);
    }
    if body.is_some() {
        out.push('\n');
    }
    out
}

/// `ESC [ [0-9;]* m` at the start of `s`.
fn is_sgr(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("\x1b[") else {
        return false;
    };
    let n = rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    rest.as_bytes().get(n) == Some(&b'm')
}

/// A writer for text meant for people: each complete line is passed
/// through [`control`] (its newline kept), so whatever a command forgot to
/// escape still reaches the terminal inert. Lines are buffered whole, so a
/// multi-byte character is never split.
pub struct SafeText<W: std::io::Write> {
    inner: W,
    buf: Vec<u8>,
}

impl<W: std::io::Write> SafeText<W> {
    pub fn new(inner: W) -> Self {
        SafeText {
            inner,
            buf: Vec::new(),
        }
    }

    fn emit(&mut self, upto: usize) -> std::io::Result<()> {
        let chunk: Vec<u8> = self.buf.drain(..upto).collect();
        let text = String::from_utf8_lossy(&chunk);
        for piece in text.split_inclusive('\n') {
            let body = piece.strip_suffix('\n');
            self.inner
                .write_all(control(body.unwrap_or(piece)).as_bytes())?;
            if body.is_some() {
                self.inner.write_all(b"\n")?;
            }
        }
        Ok(())
    }
}

impl<W: std::io::Write> std::io::Write for SafeText<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if let Some(last) = self.buf.iter().rposition(|b| *b == b'\n') {
            self.emit(last + 1)?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let n = self.buf.len();
        self.emit(n)?;
        self.inner.flush()
    }
}

impl<W: std::io::Write> Drop for SafeText<W> {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

/// Standard output as data goes to it: through [`SafeText`] when it is a
/// terminal (a person reads it), untouched when piped (a program does, and
/// wants the bytes).
pub fn stdout_for_people<'a>(out: &'a mut dyn std::io::Write) -> Box<dyn std::io::Write + 'a> {
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        Box::new(SafeText::new(out))
    } else {
        Box::new(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_text_escapes_across_writes() {
        use std::io::Write;
        let mut out = Vec::new();
        {
            let mut w = SafeText::new(&mut out);
            w.write_all(b"a\x1b[2J").unwrap();
            w.write_all(&[0xc2]).unwrap();
            w.write_all(&[0x9b, b'\n', b'b']).unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "a\\u{1b}[2J\\u{9b}\nb");
    }

    #[test]
    fn only_control_characters_are_escaped() {
        assert_eq!(
            control("O'Reilly \"q\" Zürich \\"),
            "O'Reilly \"q\" Zürich \\"
        );
        assert_eq!(control("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(control("x\ry\nz\t\x07\u{9b}"), "x\\ry\\nz\\t\\u{7}\\u{9b}");
        assert_eq!(control("evil\u{202E}txt"), "evil\\u{202e}txt");
    }

    #[test]
    fn log_lines_keep_their_newline_and_own_colours() {
        assert_eq!(
            line("\x1b[33mWARN\x1b[0m a\rb\n", true),
            "\x1b[33mWARN\x1b[0m a\\rb\n"
        );
        assert_eq!(
            line("\x1b[33mWARN\x1b[0m\n", false),
            "\\u{1b}[33mWARN\\u{1b}[0m\n"
        );
        assert_eq!(line("a\nb\n", true), "a\\nb\n");
        assert_eq!(line("\x1b]0;title\x07", true), "\\u{1b}]0;title\\u{7}");
    }
}
