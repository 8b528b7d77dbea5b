//! Sigma's `re` is PCRE-flavoured: `\d`, `\w`, `\s` and `\b` are ASCII. Rust's `regex` reads
//! them as Unicode, so the engine and the query backends both rewrite patterns with
//! [`ascii_perl_classes`] before compiling or translating them: one rewrite, so that a local
//! hunt and a deployed query read a pattern the same way.

/// Rewrite a Rust `regex` pattern so that its Perl classes and word boundaries are ASCII, as
/// in PCRE (the flavour the Sigma specification names) and in the engine: `\d` →
/// `[[:digit:]]`, `[^\s,]` → `[^[:space:],]`, `\b` → `(?-u:\b)`. Unicode `\p{..}` classes,
/// literals and case folding are kept. A pattern without such escapes, or one that does not
/// parse (the parser then reports it), is returned unchanged.
pub fn ascii_perl_classes(pattern: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    if !pattern.contains('\\') {
        return Cow::Borrowed(pattern);
    }
    let Ok(mut ast) = regex_syntax::ast::parse::Parser::new().parse(pattern) else {
        return Cow::Borrowed(pattern);
    };
    if !ascii::rewrite(&mut ast) {
        return Cow::Borrowed(pattern);
    }
    let mut out = String::with_capacity(pattern.len() + 16);
    match regex_syntax::ast::print::Printer::new().print(&ast, &mut out) {
        Ok(()) => Cow::Owned(out),
        Err(_) => Cow::Borrowed(pattern),
    }
}

/// The AST rewrite behind [`ascii_perl_classes`].
mod ascii {
    use regex_syntax::ast::{
        Assertion, AssertionKind, Ast, ClassAscii, ClassAsciiKind, ClassBracketed, ClassPerl,
        ClassPerlKind, ClassSet, ClassSetItem, Flag, Flags, FlagsItem, FlagsItemKind, Group,
        GroupKind,
    };

    fn class_of(p: &ClassPerl) -> ClassAscii {
        ClassAscii {
            span: p.span,
            kind: match p.kind {
                ClassPerlKind::Digit => ClassAsciiKind::Digit,
                ClassPerlKind::Space => ClassAsciiKind::Space,
                ClassPerlKind::Word => ClassAsciiKind::Word,
            },
            negated: p.negated,
        }
    }

    /// Rewrite in place; `true` when anything changed.
    pub(super) fn rewrite(ast: &mut Ast) -> bool {
        match ast {
            Ast::ClassPerl(p) => {
                let item = ClassSetItem::Ascii(class_of(p));
                *ast = Ast::class_bracketed(ClassBracketed {
                    span: p.span,
                    negated: false,
                    kind: ClassSet::Item(item),
                });
                true
            }
            Ast::ClassBracketed(b) => set(&mut b.kind),
            Ast::Assertion(a) => {
                if matches!(
                    a.kind,
                    AssertionKind::StartLine
                        | AssertionKind::EndLine
                        | AssertionKind::StartText
                        | AssertionKind::EndText
                ) {
                    return false;
                }
                // A word boundary: the same assertion with Unicode off, `(?-u:\b)`.
                let span = a.span;
                let flag = |kind| FlagsItem { span, kind };
                let inner = Ast::assertion(Assertion {
                    span,
                    kind: a.kind.clone(),
                });
                *ast = Ast::group(Group {
                    span,
                    kind: GroupKind::NonCapturing(Flags {
                        span,
                        items: vec![
                            flag(FlagsItemKind::Negation),
                            flag(FlagsItemKind::Flag(Flag::Unicode)),
                        ],
                    }),
                    ast: Box::new(inner),
                });
                true
            }
            Ast::Repetition(r) => rewrite(&mut r.ast),
            Ast::Group(g) => rewrite(&mut g.ast),
            Ast::Alternation(a) => a.asts.iter_mut().fold(false, |c, a| rewrite(a) | c),
            Ast::Concat(a) => a.asts.iter_mut().fold(false, |c, a| rewrite(a) | c),
            Ast::Empty(_)
            | Ast::Flags(_)
            | Ast::Literal(_)
            | Ast::Dot(_)
            | Ast::ClassUnicode(_) => false,
        }
    }

    fn set(s: &mut ClassSet) -> bool {
        match s {
            ClassSet::Item(i) => item(i),
            ClassSet::BinaryOp(op) => set(&mut op.lhs) | set(&mut op.rhs),
        }
    }

    fn item(i: &mut ClassSetItem) -> bool {
        match i {
            ClassSetItem::Perl(p) => {
                *i = ClassSetItem::Ascii(class_of(p));
                true
            }
            ClassSetItem::Bracketed(b) => set(&mut b.kind),
            ClassSetItem::Union(u) => u.items.iter_mut().fold(false, |c, x| item(x) | c),
            ClassSetItem::Empty(_)
            | ClassSetItem::Literal(_)
            | ClassSetItem::Range(_)
            | ClassSetItem::Ascii(_)
            | ClassSetItem::Unicode(_) => false,
        }
    }
}
