//! The Lucene translation of Sigma regular expressions means what the engine's regex means.
//!
//! A small reference matcher for Lucene's `RegExp` syntax (the subset the translation emits:
//! classes, `.`, escapes, `()`, `|`, `&`, `* + ? {n,m}`, `#`) runs each translation over many
//! strings and is compared with the engine's regex (the `regex` crate's unanchored search of the
//! original, with `\d \w \s \b` read as ASCII as in PCRE).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use convert::regex::translate;
use sigma::value::{Regex, RegexFlags};

#[derive(Debug)]
enum Node {
    Class(Vec<(char, char)>, bool),
    Any,
    Empty,
    Nothing,
    Concat(Vec<Node>),
    Union(Vec<Node>),
    Inter(Vec<Node>),
    Repeat(Box<Node>, u32, Option<u32>),
}

struct P<'a> {
    c: Vec<char>,
    i: usize,
    _s: &'a str,
}

impl P<'_> {
    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }
    fn eat(&mut self, ch: char) -> bool {
        if self.peek() == Some(ch) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn union(&mut self) -> Node {
        let mut v = vec![self.inter()];
        while self.eat('|') {
            v.push(self.inter());
        }
        if v.len() == 1 {
            v.remove(0)
        } else {
            Node::Union(v)
        }
    }
    fn inter(&mut self) -> Node {
        let mut v = vec![self.concat()];
        while self.eat('&') {
            v.push(self.concat());
        }
        if v.len() == 1 {
            v.remove(0)
        } else {
            Node::Inter(v)
        }
    }
    fn concat(&mut self) -> Node {
        let mut v = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == '&' || c == ')' {
                break;
            }
            v.push(self.repeat());
        }
        if v.len() == 1 {
            v.remove(0)
        } else {
            Node::Concat(v)
        }
    }
    fn repeat(&mut self) -> Node {
        let mut n = self.atom();
        loop {
            if self.eat('*') {
                n = Node::Repeat(Box::new(n), 0, None);
            } else if self.eat('+') {
                n = Node::Repeat(Box::new(n), 1, None);
            } else if self.eat('?') {
                n = Node::Repeat(Box::new(n), 0, Some(1));
            } else if self.peek() == Some('{') {
                self.i += 1;
                let mut a = String::new();
                while let Some(c) = self.peek().filter(char::is_ascii_digit) {
                    a.push(c);
                    self.i += 1;
                }
                let min: u32 = a.parse().unwrap();
                let max = if self.eat(',') {
                    let mut b = String::new();
                    while let Some(c) = self.peek().filter(char::is_ascii_digit) {
                        b.push(c);
                        self.i += 1;
                    }
                    if b.is_empty() {
                        None
                    } else {
                        Some(b.parse().unwrap())
                    }
                } else {
                    Some(min)
                };
                assert!(self.eat('}'));
                n = Node::Repeat(Box::new(n), min, max);
            } else {
                return n;
            }
        }
    }
    fn lit(&mut self) -> char {
        // A backslash makes the next character literal.
        self.eat('\\');
        let c = self.peek().unwrap();
        self.i += 1;
        c
    }
    fn atom(&mut self) -> Node {
        match self.peek().unwrap() {
            '(' => {
                self.i += 1;
                if self.eat(')') {
                    return Node::Empty;
                }
                let n = self.union();
                assert!(self.eat(')'), "unclosed group");
                n
            }
            '.' => {
                self.i += 1;
                Node::Any
            }
            '#' => {
                self.i += 1;
                Node::Nothing
            }
            '[' => {
                self.i += 1;
                let neg = self.eat('^');
                let mut ranges = Vec::new();
                while !self.eat(']') {
                    let a = self.lit();
                    if self.peek() == Some('-') && self.c.get(self.i + 1) != Some(&']') {
                        self.i += 1;
                        let b = self.lit();
                        ranges.push((a, b));
                    } else {
                        ranges.push((a, a));
                    }
                }
                Node::Class(ranges, neg)
            }
            c => {
                assert!(!"*+?{}@~<>\"".contains(c), "unescaped operator {c}");
                let c = self.lit();
                Node::Class(vec![(c, c)], false)
            }
        }
    }
}

fn ends(n: &Node, s: &[char], from: &BTreeSet<usize>) -> BTreeSet<usize> {
    match n {
        Node::Any => from
            .iter()
            .filter(|&&i| i < s.len())
            .map(|i| i + 1)
            .collect(),
        Node::Class(r, neg) => from
            .iter()
            .filter(|&&i| i < s.len() && (r.iter().any(|&(a, b)| a <= s[i] && s[i] <= b) != *neg))
            .map(|i| i + 1)
            .collect(),
        Node::Empty => from.clone(),
        Node::Nothing => BTreeSet::new(),
        Node::Concat(v) => v.iter().fold(from.clone(), |acc, n| ends(n, s, &acc)),
        Node::Union(v) => v.iter().flat_map(|n| ends(n, s, from)).collect(),
        Node::Inter(v) => {
            // Per start position: the same substring must match every operand.
            let mut out = BTreeSet::new();
            for &i in from {
                let one = BTreeSet::from([i]);
                let mut acc = ends(&v[0], s, &one);
                for n in &v[1..] {
                    let e = ends(n, s, &one);
                    acc = acc.intersection(&e).copied().collect();
                }
                out.extend(acc);
            }
            out
        }
        Node::Repeat(n, min, max) => {
            let mut cur = from.clone();
            for _ in 0..*min {
                cur = ends(n, s, &cur);
            }
            let mut all = cur.clone();
            let mut k = *min;
            loop {
                if max.is_some_and(|m| k >= m) {
                    break;
                }
                let next = ends(n, s, &cur);
                let new: BTreeSet<usize> = next.difference(&all).copied().collect();
                if new.is_empty() && max.is_none() {
                    break;
                }
                all.extend(next.iter().copied());
                cur = next;
                k += 1;
                if cur.is_empty() {
                    break;
                }
            }
            all
        }
    }
}

fn lucene_matches(re: &str, text: &str) -> bool {
    let mut p = P {
        c: re.chars().collect(),
        i: 0,
        _s: re,
    };
    let n = p.union();
    assert_eq!(p.i, p.c.len(), "trailing input in {re}");
    let s: Vec<char> = text.chars().collect();
    ends(&n, &s, &BTreeSet::from([0])).contains(&s.len())
}

/// Strings made of the characters that matter to the pattern plus a few others.
fn probes(pattern: &str, extra: &[&str]) -> Vec<String> {
    let mut alphabet: Vec<char> = pattern
        .chars()
        .filter(|c| c.is_alphanumeric() || " .:/-_".contains(*c))
        .collect();
    // Non-ASCII letters, digits and spaces: `\w`, `\d`, `\s` and `\b` are ASCII.
    alphabet.extend([
        'a', 'B', '1', ' ', '.', '\n', 'é', '_', '-', 'x', '\u{663}', '\u{a0}', '\u{212a}',
    ]);
    alphabet.sort();
    alphabet.dedup();
    let mut out: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    out.push(String::new());
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15 ^ pattern.len() as u64;
    for _ in 0..700 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let len = (seed >> 59) as usize;
        let mut s = String::new();
        let mut x = seed;
        for _ in 0..len {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            s.push(alphabet[(x >> 33) as usize % alphabet.len()]);
        }
        out.push(s);
    }
    out
}

fn check(pattern: &str, flags: RegexFlags, extra: &[&str]) {
    let lucene = translate(&Regex {
        pattern: pattern.into(),
        flags,
    })
    .unwrap_or_else(|e| panic!("{pattern}: {e}"));
    let rust = engine::semantics::build_regex(&Regex {
        pattern: pattern.into(),
        flags,
    })
    .unwrap();
    for s in probes(pattern, extra) {
        assert_eq!(
            lucene_matches(&lucene, &s),
            rust.is_match(&s),
            "pattern {pattern:?} -> {lucene:?} on {s:?}"
        );
    }
}

const NONE: RegexFlags = RegexFlags {
    ignore_case: false,
    multi_line: false,
    dot_all: false,
};

#[test]
fn plain_patterns() {
    for p in [
        "ab",
        "^ab",
        "ab$",
        "^ab$",
        "a.b",
        "a|^b",
        "(?:^a|b)x",
        "a(b$|c)",
        "a{2,3}",
        "[a-c]+1",
        r"\d+\.\d",
        r"\s-B\s",
        "(?i)ab",
        "a(?i)b",
        r"[^a]x",
        "",
        "^$",
        r"\w+-\w",
        r"^\d+$",
        r"[\d\s]x",
        r"[^\w]",
        r"\W\S\D",
    ] {
        check(
            p,
            NONE,
            &[
                "ab", "xab", "abx", "AB", "a\nb", "aab", "b", "aaab", "1.2", " -B ", "\u{663}",
                "\u{a0}x", "é-é",
            ],
        );
    }
}

#[test]
fn flags() {
    let i = RegexFlags {
        ignore_case: true,
        ..NONE
    };
    let m = RegexFlags {
        multi_line: true,
        ..NONE
    };
    let s = RegexFlags {
        dot_all: true,
        ..NONE
    };
    for p in ["ab", "^ab$", "a.b", "x[a-c]"] {
        check(p, i, &["AB", "aB", "xC"]);
        check(p, m, &["x\nab\ny", "ab\n", "\nab"]);
        check(p, s, &["a\nb"]);
    }
}

#[test]
fn word_boundaries() {
    for p in [
        r"\bab",
        r"ab\b",
        r"\bab\b",
        r"a\Bb",
        r"x\b",
        r"1\b-",
        r"a*\bb",
        r"(?:\.|\b)x",
        r"https?://(?:(?:25[0-5]|(?:2[0-4]|1\d|[1-9])?\d)(?:\.|\b)){4}",
        r"(?-u:\b)ab",
    ] {
        check(
            p,
            NONE,
            &[
                "ab",
                "xab",
                "ab c",
                "a b",
                "1-",
                "http://1.2.3.4",
                "http://1.2.3.4x",
                "http://1.2.3.4/",
                "https://10.0.0.256",
                "http://127.0.0.1:80",
                "éab",
                ".x",
            ],
        );
    }
}

#[test]
fn sigmahq_patterns() {
    // Regular expressions from SigmaHQ rules (DRL 1.1), the shapes that occur in practice.
    for p in [
        r"(?i)\s(-u|--user)\s*:",
        r"\\Windows\\System32\\[a-zA-Z0-9]{8}\.tmp$",
        r"-(W|R)\s?(\s|'|\x22)([0-9a-fA-F]{2}\s?){2,5}(\s|'|\x22)",
        r"(?:\s-[^-\s]{0,20}i|\s--inode\s)",
        r"://\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}",
        r"[Rr][Uu][Nn][Dd][Ll][Ll]32(?:\.[Ee][Xx][Ee])? \S+?\w:\S+?:",
    ] {
        check(
            p,
            NONE,
            &[
                " -u :",
                r"C:\Windows\System32\abcdEFGH.tmp",
                "-W 'aa bb'",
                " -xi",
                "http://1.2.3.4",
                "rundll32.exe a:b:",
            ],
        );
    }
}
