//! `search` and `export`: documents in (label, path) order, with their
//! records as stored JSON text, read one at a time.

use std::ops::ControlFlow;

use serde_json::value::RawValue;
use tantivy::query::{AllQuery, Query, QueryParser, QueryParserError};
use tantivy::query_grammar::{Occur, UserInputAst, UserInputLeaf};

use crate::open::RmsIndex;
use crate::rows::{for_each_in_order, matching};
use crate::IndexError;

/// Records matching a tantivy query, in (label, path) order, at most `limit`.
pub fn search(
    idx: &RmsIndex,
    query: &str,
    limit: Option<usize>,
) -> Result<Vec<Box<RawValue>>, IndexError> {
    let mut out = Vec::new();
    search_each(idx, query, limit, |r| {
        out.push(r);
        ControlFlow::Continue(())
    })?;
    Ok(out)
}

/// Like [`search`], handing each record to `f` as it is read (memory does
/// not grow with the number of records); `f` returns `Break` to stop.
/// Returns how many records matched (all of them, whatever `limit` kept).
pub fn search_each(
    idx: &RmsIndex,
    query: &str,
    limit: Option<usize>,
    f: impl FnMut(Box<RawValue>) -> ControlFlow<()>,
) -> Result<usize, IndexError> {
    let mut parser = QueryParser::for_index(&idx.index, idx.fields.default_search());
    parser.set_conjunction_by_default();
    let given = query;
    let query = &whole_days(&unbrace_guids(query));
    let q = tantivy::query_grammar::parse_query(query)
        .map_err(|_| QueryParserError::SyntaxError(query.to_string()))
        .and_then(|ast| parser.build_query_from_user_input_ast(negations_keep_the_rest(ast)));
    let q = q.map_err(|e| {
        let mut msg = format!("bad query {given:?}: {e}");
        if let Some(why) = where_wrong(given) {
            msg.push_str(&format!(" ({why})"));
        }
        if matches!(e, tantivy::query::QueryParserError::FieldDoesNotExist(_)) {
            msg.push_str(&format!(". Fields: {}", idx.fields.queryable().join(", ")));
        }
        msg.push_str(
            ". Examples: kind:template AND issuer_host:rms.contoso.com, \
             template_names:confidential, valid_until:[* TO 2025-06-01], \
             template_id:{8ac65b31-c233-4791-a2e9-0123456789ab}",
        );
        IndexError::BadQuery(msg)
    })?;
    each(idx, &*q, limit, f)
}

/// A group of negations alone matches nothing in tantivy, so `a AND NOT b`
/// (parsed as `+a +(-b)`) and `NOT b` would answer with nothing at all — a
/// silent wrong answer. Each such group is given every record to take the
/// negations from: `NOT b` means every record but b's.
fn negations_keep_the_rest(ast: UserInputAst) -> UserInputAst {
    match ast {
        UserInputAst::Clause(clauses) => {
            let mut clauses: Vec<_> = clauses
                .into_iter()
                .map(|(occur, sub)| (occur, negations_keep_the_rest(sub)))
                .collect();
            if !clauses.is_empty() && clauses.iter().all(|(o, _)| *o == Some(Occur::MustNot)) {
                let all = UserInputAst::Leaf(Box::new(UserInputLeaf::All));
                clauses.push((Some(Occur::Must), all));
            }
            UserInputAst::Clause(clauses)
        }
        UserInputAst::Boost(sub, by) => {
            UserInputAst::Boost(Box::new(negations_keep_the_rest(*sub)), by)
        }
        leaf => leaf,
    }
}

/// Where a query that did not parse goes wrong, when it can be told: a
/// bracket or quote never closed, a closing one with nothing open. tantivy
/// says only "Syntax Error"; positions count characters from 1.
pub fn where_wrong(query: &str) -> Option<String> {
    let mut open: Vec<(usize, char)> = Vec::new();
    let mut quote: Option<usize> = None;
    for (i, c) in query.chars().enumerate() {
        let at = i + 1;
        match (c, quote) {
            ('"', Some(_)) => quote = None,
            (_, Some(_)) => {}
            ('"', None) => quote = Some(at),
            ('(' | '[' | '{', None) => open.push((at, c)),
            (')', None) => match open.pop() {
                Some((_, '(')) => {}
                _ => return Some(format!("the `)` at character {at} closes nothing")),
            },
            (']' | '}', None) => match open.pop() {
                Some((_, '[' | '{')) => {}
                _ => return Some(format!("the `{c}` at character {at} closes no range")),
            },
            _ => {}
        }
    }
    if let Some(at) = quote {
        return Some(format!("the quote at character {at} is never closed"));
    }
    open.first()
        .map(|(at, c)| format!("the `{c}` at character {at} is never closed"))
}

/// Every record, in (label, path) order, handed to `f` as it is read.
pub fn export_each(
    idx: &RmsIndex,
    f: impl FnMut(Box<RawValue>) -> ControlFlow<()>,
) -> Result<(), IndexError> {
    each(idx, &AllQuery, None, f).map(|_| ())
}

fn each(
    idx: &RmsIndex,
    q: &dyn Query,
    limit: Option<usize>,
    mut f: impl FnMut(Box<RawValue>) -> ControlFlow<()>,
) -> Result<usize, IndexError> {
    let searcher = crate::searcher(idx)?;
    let docs =
        matching(&searcher, q).map_err(|e| IndexError::Tantivy(idx.dir.clone(), e.to_string()))?;
    for_each_in_order(idx, &searcher, &docs, limit, |_, raw| f(raw))?;
    Ok(docs.values().map(Vec::len).sum())
}

/// `{8AC65B31-C233-4791-A2E9-…}` as XrML writes a GUID becomes the bare GUID
/// (braces are range syntax in queries; GUIDs are indexed without them).
fn unbrace_guids(q: &str) -> String {
    rewrite(q, |b, i| {
        let guid = b[i] == b'{'
            && b.len() >= i + 38
            && b[i + 37] == b'}'
            && b[i + 1..i + 37].iter().enumerate().all(|(k, c)| {
                if matches!(k, 8 | 13 | 18 | 23) {
                    *c == b'-'
                } else {
                    c.is_ascii_hexdigit()
                }
            });
        guid.then(|| (38, q[i + 1..i + 37].to_string()))
    })
}

/// A date without a time in a query (`valid_until:[* TO 2025-06-01]`)
/// means midnight UTC: the query parser takes only RFC 3339 times.
fn whole_days(q: &str) -> String {
    rewrite(q, |b, i| {
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        let is_date = b.len() >= i + 10
            && digits(i..i + 4)
            && b[i + 4] == b'-'
            && digits(i + 5..i + 7)
            && b[i + 7] == b'-'
            && digits(i + 8..i + 10);
        let before_ok = i == 0 || matches!(b[i - 1], b'[' | b'{' | b':' | b' ' | b'"');
        let after_ok = b
            .get(i + 10)
            .is_none_or(|c| matches!(c, b']' | b'}' | b' ' | b'"'));
        (is_date && before_ok && after_ok).then(|| (10, format!("{}T00:00:00Z", &q[i..i + 10])))
    })
}

/// `q` with every place where `at(bytes, i)` answers (bytes consumed,
/// replacement) replaced; everything else copied character by character.
fn rewrite(q: &str, at: impl Fn(&[u8], usize) -> Option<(usize, String)>) -> String {
    let b = q.as_bytes();
    let mut out = String::with_capacity(q.len() + 16);
    let mut i = 0;
    while i < b.len() {
        if let Some((n, with)) = at(b, i) {
            out.push_str(&with);
            i += n;
        } else {
            let c = q[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_broken_query_says_where() {
        assert_eq!(
            where_wrong("kind:eul AND (issuer_host:x").as_deref(),
            Some("the `(` at character 14 is never closed")
        );
        assert_eq!(
            where_wrong("kind:eul)").as_deref(),
            Some("the `)` at character 9 closes nothing")
        );
        assert_eq!(
            where_wrong("template_names:\"do not").as_deref(),
            Some("the quote at character 16 is never closed")
        );
        assert_eq!(
            where_wrong("valid_until:[* TO 2025-06-01} AND template_id:{8ac65b31}"),
            None
        );
    }

    use super::*;

    #[test]
    fn dates_without_a_time_mean_midnight_utc() {
        assert_eq!(
            whole_days("kind:rac AND valid_until:[* TO 2025-06-01]"),
            "kind:rac AND valid_until:[* TO 2025-06-01T00:00:00Z]"
        );
        assert_eq!(
            whole_days("issued:[2024-01-01T00:00:00Z TO 2025-01-01}"),
            "issued:[2024-01-01T00:00:00Z TO 2025-01-01T00:00:00Z}"
        );
        assert_eq!(whole_days("path:x2025-06-01y"), "path:x2025-06-01y");
    }

    #[test]
    fn braced_guids_lose_their_braces_and_nothing_else_changes() {
        assert_eq!(
            unbrace_guids("template_id:{8AC65B31-C233-4791-A2E9-0123456789AB} AND kind:template"),
            "template_id:8AC65B31-C233-4791-A2E9-0123456789AB AND kind:template"
        );
        assert_eq!(
            unbrace_guids("valid_until:{* TO 2025-01-01}"),
            "valid_until:{* TO 2025-01-01}"
        );
        assert_eq!(
            unbrace_guids("name:Vertraulich é {x}"),
            "name:Vertraulich é {x}"
        );
    }
}
