//! An aggregation written as SQL (`"count(*) AS n"`, `"avg(value)"`), parsed with
//! sqlparser into the engine's row aggregate.

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectNamePart, SelectItem,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use tidewater_engine::row::agg::{self, AggExpr};

/// `count(*)`, `count(col)`, `sum(col)`, `avg(col)`, `min(col)`, `max(col)`, with an
/// optional `AS alias`; without one the column is named as Spark names it
/// (`count(1)`, `avg(value)`).
///
/// ```
/// use tidewater::declarative::parse_aggregation;
/// assert!(parse_aggregation("sum(value) AS total").is_ok());
/// assert_eq!(
///     parse_aggregation("median(value)").unwrap_err(),
///     "an aggregation: count, sum, avg, min or max of a column (`median` is not one)"
/// );
/// ```
pub fn parse_aggregation(text: &str) -> Result<AggExpr, String> {
    let shape = || "an aggregation such as `count(*) AS n` or `sum(value) AS total`".to_string();
    let item = Parser::new(&GenericDialect)
        .try_with_sql(text)
        .and_then(|mut p| {
            let item = p.parse_select_item()?;
            p.expect_token(&sqlparser::tokenizer::Token::EOF)?;
            Ok(item)
        })
        .map_err(|_| shape())?;
    let (expr, alias) = match item {
        SelectItem::UnnamedExpr(e) => (e, None),
        SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias.value)),
        _ => return Err(shape()),
    };
    let Expr::Function(f) = expr else {
        return Err(shape());
    };
    let name = match f.name.0.as_slice() {
        [ObjectNamePart::Identifier(id)] => id.value.to_ascii_lowercase(),
        _ => return Err(shape()),
    };
    let FunctionArguments::List(list) = &f.args else {
        return Err(shape());
    };
    let column = match list.args.as_slice() {
        [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)] => "*".to_string(),
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))] if v.to_string() == "1" => {
            "*".to_string()
        }
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Identifier(id)))] => id.value.clone(),
        _ => return Err(format!("{} of one column or `*`", shape())),
    };
    let expr = match (name.as_str(), column.as_str()) {
        ("count", c) => agg::count(c),
        (_, "*") => return Err(format!("a column for `{name}` (only count takes `*`)")),
        ("sum", c) => agg::sum(c),
        ("avg" | "mean", c) => agg::avg(c),
        ("min", c) => agg::min(c),
        ("max", c) => agg::max(c),
        (other, _) => {
            return Err(format!(
                "an aggregation: count, sum, avg, min or max of a column (`{other}` is not one)"
            ))
        }
    };
    let default_name = if column == "*" {
        format!("{name}(1)")
    } else {
        format!("{name}({column})")
    };
    Ok(expr.alias(&alias.unwrap_or(default_name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregations_parse_or_say_what_is_wrong() {
        type Case = (&'static str, Result<&'static str, &'static str>);
        let cases: Vec<Case> = vec![
            ("count(*) AS count", Ok("count")),
            ("COUNT(1)", Ok("count(1)")),
            ("sum(value) AS total", Ok("total")),
            ("avg(value)", Ok("avg(value)")),
            ("max(ts) as latest", Ok("latest")),
            ("sum(*)", Err("a column for `sum` (only count takes `*`)")),
            (
                "value + 1",
                Err("an aggregation such as `count(*) AS n` or `sum(value) AS total`"),
            ),
            (
                "count(*) AS n extra",
                Err("an aggregation such as `count(*) AS n` or `sum(value) AS total`"),
            ),
        ];
        for (text, expected) in cases {
            let got = parse_aggregation(text).map(|a| a.alias);
            assert_eq!(got.as_deref().map_err(String::as_str), expected, "{text}");
        }
    }
}
