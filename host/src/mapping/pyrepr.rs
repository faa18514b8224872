//! Python's `repr()` of strings and lists of strings, for error messages that pretix
//! renders with `str(list)` / `%r`.

/// Whether Python's `str.isprintable()` is false for `c` (approximated with std's
/// tables: controls, separators other than the ASCII space, common format characters
/// and private-use characters; unassigned code points are not detected).
fn non_printable(c: char) -> bool {
    let cp = u32::from(c);
    c.is_control()
        || (c.is_whitespace() && c != ' ')
        || matches!(
            cp,
            0xAD | 0x600..=0x605
                | 0x61C
                | 0x6DD
                | 0x70F
                | 0x180E
                | 0x200B..=0x200F
                | 0x202A..=0x202E
                | 0x2060..=0x2064
                | 0x2066..=0x206F
                | 0xFEFF
                | 0xFFF9..=0xFFFB
                | 0xE000..=0xF8FF
                | 0xE0001
                | 0xE0020..=0xE007F
                | 0xF0000..=0x10FFFF
        )
}

/// `repr(s)` for a Python `str`.
pub fn py_repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if non_printable(c) => {
                let cp = u32::from(c);
                if cp < 0x100 {
                    out.push_str(&format!("\\x{cp:02x}"));
                } else if cp < 0x10000 {
                    out.push_str(&format!("\\u{cp:04x}"));
                } else {
                    out.push_str(&format!("\\U{cp:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `str(list_of_str)` in Python: `['a', 'b']`.
pub fn py_repr_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from("[");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&py_repr_str(item));
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_and_escaped_like_python() {
        assert_eq!(py_repr_str("n"), "'n'");
        assert_eq!(py_repr_str("it's"), "\"it's\"");
        assert_eq!(py_repr_str("both ' and \""), "'both \\' and \"'");
        assert_eq!(py_repr_str("a\\b\nc"), "'a\\\\b\\nc'");
        assert_eq!(py_repr_str("grün\u{a0}\u{7}"), "'grün\\xa0\\x07'");
        assert_eq!(py_repr_str("\u{200b}"), "'\\u200b'");
    }

    #[test]
    fn lists_render_like_python_str_of_list() {
        assert_eq!(py_repr_list(["T1", "T9"]), "['T1', 'T9']");
        assert_eq!(py_repr_list(Vec::<&str>::new()), "[]");
    }
}
