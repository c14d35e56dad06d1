//! SQL expressions over rows (`filter`, `select`, `with_column`), parsed with
//! sqlparser and evaluated with SQL's null rules: an operation on null is null, a
//! comparison with null is null (neither true nor false), `AND`/`OR` are three-valued,
//! and a filter keeps a row only when its predicate is true.

use sqlparser::ast::{
    BinaryOperator, CastKind, Expr, FunctionArg, FunctionArgExpr, FunctionArguments,
    ObjectNamePart, UnaryOperator, Value as SqlValue,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use tidewater_engine::row::{DataType, Row, Value};

/// A parsed SQL expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    text: String,
    ast: Expr,
}

/// What went wrong evaluating an expression on a row.
pub type EvalError = String;

impl Expression {
    /// Parses `text` (`price * 2`, `status = 'open' AND amount > 10`).
    ///
    /// ```
    /// use tidewater::declarative::Expression;
    /// use tidewater_engine::row::{Row, Value};
    ///
    /// let row = Row::from_pairs([("price", Value::Float(2.5)), ("n", Value::Null)]);
    /// let e = Expression::parse("price * 2 > 4 AND n IS NULL").unwrap();
    /// assert_eq!(e.eval(&row).unwrap(), Value::Bool(true));
    /// assert_eq!(Expression::parse("n + 1").unwrap().eval(&row).unwrap(), Value::Null);
    /// ```
    pub fn parse(text: &str) -> Result<Expression, String> {
        let ast = Parser::new(&GenericDialect)
            .try_with_sql(text)
            .and_then(|mut p| {
                let e = p.parse_expr()?;
                p.expect_token(&sqlparser::tokenizer::Token::EOF)?;
                Ok(e)
            })
            .map_err(|e| format!("a SQL expression ({e})"))?;
        check(&ast)?;
        Ok(Expression {
            text: text.trim().to_string(),
            ast,
        })
    }

    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The column a bare column reference names (for `select` names).
    pub fn column(&self) -> Option<&str> {
        match &self.ast {
            Expr::Identifier(id) => Some(id.value.as_str()),
            _ => None,
        }
    }

    /// The value of the expression for `row`.
    pub fn eval(&self, row: &Row) -> Result<Value, EvalError> {
        eval(&self.ast, row)
    }

    /// Whether `row` passes the expression as a filter: only a true result does.
    pub fn accepts(&self, row: &Row) -> Result<bool, EvalError> {
        match self.eval(row)? {
            Value::Bool(b) => Ok(b),
            Value::Null => Ok(false),
            other => Err(format!("`{}` gave {other:?}, not a boolean", self.text)),
        }
    }
}

/// Refuses, when parsing, what `eval` does not evaluate, so a file fails validation
/// rather than its run.
fn check(e: &Expr) -> Result<(), String> {
    let unsupported = |what: &str| Err(format!("a supported SQL expression (`{what}` is not)"));
    match e {
        Expr::Identifier(_) | Expr::Value(_) => Ok(()),
        Expr::Nested(x)
        | Expr::IsNull(x)
        | Expr::IsNotNull(x)
        | Expr::IsTrue(x)
        | Expr::IsFalse(x) => check(x),
        Expr::UnaryOp { op, expr } => match op {
            UnaryOperator::Not | UnaryOperator::Minus | UnaryOperator::Plus => check(expr),
            other => unsupported(&other.to_string()),
        },
        Expr::BinaryOp { left, op, right } => {
            use BinaryOperator::*;
            match op {
                Plus | Minus | Multiply | Divide | Modulo | StringConcat | Gt | Lt | GtEq
                | LtEq | Eq | NotEq | And | Or => {
                    check(left)?;
                    check(right)
                }
                other => unsupported(&other.to_string()),
            }
        }
        Expr::InList { expr, list, .. } => {
            check(expr)?;
            list.iter().try_for_each(check)
        }
        Expr::Between {
            expr, low, high, ..
        } => {
            check(expr)?;
            check(low)?;
            check(high)
        }
        Expr::Like {
            expr,
            pattern,
            escape_char: None,
            any: false,
            ..
        } => {
            check(expr)?;
            check(pattern)
        }
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            if let Some(o) = operand {
                check(o)?;
            }
            for c in conditions {
                check(&c.condition)?;
                check(&c.result)?;
            }
            if let Some(e) = else_result {
                check(e)?;
            }
            Ok(())
        }
        Expr::Cast {
            kind: CastKind::Cast | CastKind::DoubleColon,
            expr,
            data_type,
            ..
        } => {
            cast_type(&data_type.to_string())
                .map(|_| ())
                .ok_or_else(|| {
                    format!(
                        "a type to cast to: string, long, double, boolean (found `{data_type}`)"
                    )
                })?;
            check(expr)
        }
        Expr::Function(f) => {
            let name = function_name(f).ok_or_else(|| "a function name".to_string())?;
            if !FUNCTIONS.contains(&name.as_str()) {
                return Err(format!(
                    "a supported function: {} (`{name}` is not)",
                    FUNCTIONS.join(", ")
                ));
            }
            args(f)?.into_iter().try_for_each(check)
        }
        other => unsupported(&other.to_string()),
    }
}

const FUNCTIONS: &[&str] = &[
    "lower", "upper", "length", "abs", "coalesce", "concat", "round",
];

fn function_name(f: &sqlparser::ast::Function) -> Option<String> {
    match f.name.0.as_slice() {
        [ObjectNamePart::Identifier(id)] => Some(id.value.to_ascii_lowercase()),
        _ => None,
    }
}

fn args(f: &sqlparser::ast::Function) -> Result<Vec<&Expr>, String> {
    match &f.args {
        FunctionArguments::List(list) => list
            .args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e),
                other => Err(format!("a plain argument (found `{other}`)")),
            })
            .collect(),
        FunctionArguments::None => Ok(Vec::new()),
        FunctionArguments::Subquery(_) => Err("arguments, not a subquery".into()),
    }
}

fn cast_type(name: &str) -> Option<DataType> {
    let base = name.split('(').next().unwrap_or(name).trim();
    super::schema::data_type(base)
}

fn literal(v: &SqlValue) -> Result<Value, EvalError> {
    Ok(match v {
        SqlValue::Number(n, _) => match n.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(n.parse::<f64>().map_err(|_| format!("the number `{n}`"))?),
        },
        SqlValue::SingleQuotedString(s) | SqlValue::DoubleQuotedString(s) => Value::Str(s.clone()),
        SqlValue::Boolean(b) => Value::Bool(*b),
        SqlValue::Null => Value::Null,
        other => return Err(format!("a supported literal (`{other}` is not)")),
    })
}

fn truth(v: &Value) -> Result<Option<bool>, EvalError> {
    match v {
        Value::Bool(b) => Ok(Some(*b)),
        Value::Null => Ok(None),
        other => Err(format!("a boolean, found {other:?}")),
    }
}

fn from_truth(t: Option<bool>) -> Value {
    t.map_or(Value::Null, Value::Bool)
}

/// Orders two non-null values: numbers numerically (ints and floats together),
/// strings and booleans by themselves; other pairs do not compare.
fn compare(a: &Value, b: &Value) -> Result<std::cmp::Ordering, EvalError> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x.cmp(y)),
        (Value::Str(x), Value::Str(y)) => Ok(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Ok(x.cmp(y)),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x
                .partial_cmp(&y)
                .ok_or_else(|| "NaN does not compare".to_string()),
            _ => Err(format!("{a:?} and {b:?} do not compare")),
        },
    }
}

fn arithmetic(op: &BinaryOperator, a: &Value, b: &Value) -> Result<Value, EvalError> {
    use BinaryOperator::*;
    if let (Value::Int(x), Value::Int(y), Plus | Minus | Multiply | Modulo) = (a, b, op) {
        let r = match op {
            Plus => x.checked_add(*y),
            Minus => x.checked_sub(*y),
            Multiply => x.checked_mul(*y),
            _ => x.checked_rem(*y),
        };
        // Integer overflow or `% 0` is null, as Spark's non-ANSI arithmetic gives.
        return Ok(r.map_or(Value::Null, Value::Int));
    }
    let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) else {
        return Err(format!("numbers for `{op}`, found {a:?} and {b:?}"));
    };
    Ok(match op {
        Plus => Value::Float(x + y),
        Minus => Value::Float(x - y),
        Multiply => Value::Float(x * y),
        // Spark: division is always fractional, and by zero is null.
        Divide if y == 0.0 => Value::Null,
        Divide => Value::Float(x / y),
        Modulo if y == 0.0 => Value::Null,
        _ => Value::Float(x % y),
    })
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
    }
}

/// SQL `LIKE`: `%` any run of characters, `_` one character.
fn like(text: &str, pattern: &str) -> bool {
    let (t, p): (Vec<char>, Vec<char>) = (text.chars().collect(), pattern.chars().collect());
    // dp[i][j]: t[..i] matches p[..j]
    let mut dp = vec![vec![false; p.len() + 1]; t.len() + 1];
    dp[0][0] = true;
    for j in 1..=p.len() {
        dp[0][j] = p[j - 1] == '%' && dp[0][j - 1];
    }
    for i in 1..=t.len() {
        for j in 1..=p.len() {
            dp[i][j] = match p[j - 1] {
                '%' => dp[i][j - 1] || dp[i - 1][j],
                '_' => dp[i - 1][j - 1],
                c => c == t[i - 1] && dp[i - 1][j - 1],
            };
        }
    }
    dp[t.len()][p.len()]
}

fn cast(v: Value, to: DataType) -> Result<Value, EvalError> {
    Ok(match (v, to) {
        (Value::Null, _) => Value::Null,
        (v, DataType::Str) => Value::Str(text_of(&v)),
        (Value::Int(i), DataType::Int) => Value::Int(i),
        (Value::Float(f), DataType::Int) => Value::Int(f.trunc() as i64),
        (Value::Str(s), DataType::Int) => s.trim().parse().map_or(Value::Null, Value::Int),
        (Value::Bool(b), DataType::Int) => Value::Int(i64::from(b)),
        (v @ (Value::Int(_) | Value::Float(_)), DataType::Float) => {
            v.as_f64().map_or(Value::Null, Value::Float)
        }
        (Value::Str(s), DataType::Float) => s.trim().parse().map_or(Value::Null, Value::Float),
        (Value::Bool(b), DataType::Float) => Value::Float(if b { 1.0 } else { 0.0 }),
        (Value::Bool(b), DataType::Bool) => Value::Bool(b),
        (Value::Str(s), DataType::Bool) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "1" | "yes" => Value::Bool(true),
            "false" | "f" | "0" | "no" => Value::Bool(false),
            _ => Value::Null,
        },
        (Value::Int(i), DataType::Bool) => Value::Bool(i != 0),
        (v, t) => return Err(format!("{v:?} does not cast to {t:?}")),
    })
}

fn eval(e: &Expr, row: &Row) -> Result<Value, EvalError> {
    match e {
        Expr::Identifier(id) => row.get(&id.value).cloned().ok_or_else(|| {
            let names: Vec<&str> = row.schema().names().collect();
            format!(
                "no column `{}` (the row has {})",
                id.value,
                names.join(", ")
            )
        }),
        Expr::Value(v) => literal(&v.value),
        Expr::Nested(x) => eval(x, row),
        Expr::IsNull(x) => Ok(Value::Bool(eval(x, row)? == Value::Null)),
        Expr::IsNotNull(x) => Ok(Value::Bool(eval(x, row)? != Value::Null)),
        Expr::IsTrue(x) => Ok(Value::Bool(truth(&eval(x, row)?)? == Some(true))),
        Expr::IsFalse(x) => Ok(Value::Bool(truth(&eval(x, row)?)? == Some(false))),
        Expr::UnaryOp { op, expr } => {
            let v = eval(expr, row)?;
            match (op, v) {
                (_, Value::Null) => Ok(Value::Null),
                (UnaryOperator::Not, v) => Ok(from_truth(truth(&v)?.map(|b| !b))),
                (UnaryOperator::Minus, Value::Int(i)) => {
                    Ok(i.checked_neg().map_or(Value::Null, Value::Int))
                }
                (UnaryOperator::Minus, Value::Float(f)) => Ok(Value::Float(-f)),
                (UnaryOperator::Plus, v @ (Value::Int(_) | Value::Float(_))) => Ok(v),
                (op, v) => Err(format!("`{op}` of {v:?}")),
            }
        }
        Expr::BinaryOp { left, op, right } => {
            use BinaryOperator::*;
            match op {
                And | Or => {
                    let l = truth(&eval(left, row)?)?;
                    // Short-circuit where the answer is already known.
                    match (op, l) {
                        (And, Some(false)) => return Ok(Value::Bool(false)),
                        (Or, Some(true)) => return Ok(Value::Bool(true)),
                        _ => {}
                    }
                    let r = truth(&eval(right, row)?)?;
                    Ok(from_truth(match (op, l, r) {
                        (And, _, Some(false)) => Some(false),
                        (And, Some(true), Some(true)) => Some(true),
                        (Or, _, Some(true)) => Some(true),
                        (Or, Some(false), Some(false)) => Some(false),
                        _ => None,
                    }))
                }
                _ => {
                    let (l, r) = (eval(left, row)?, eval(right, row)?);
                    if l == Value::Null || r == Value::Null {
                        return Ok(Value::Null);
                    }
                    match op {
                        StringConcat => Ok(Value::Str(text_of(&l) + &text_of(&r))),
                        Eq | NotEq | Gt | Lt | GtEq | LtEq => {
                            let o = compare(&l, &r)?;
                            Ok(Value::Bool(match op {
                                Eq => o.is_eq(),
                                NotEq => o.is_ne(),
                                Gt => o.is_gt(),
                                Lt => o.is_lt(),
                                GtEq => o.is_ge(),
                                _ => o.is_le(),
                            }))
                        }
                        _ => arithmetic(op, &l, &r),
                    }
                }
            }
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let v = eval(expr, row)?;
            if v == Value::Null {
                return Ok(Value::Null);
            }
            let mut saw_null = false;
            for item in list {
                let x = eval(item, row)?;
                if x == Value::Null {
                    saw_null = true;
                } else if compare(&v, &x)?.is_eq() {
                    return Ok(Value::Bool(!negated));
                }
            }
            Ok(if saw_null {
                Value::Null
            } else {
                Value::Bool(*negated)
            })
        }
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => {
            let (v, lo, hi) = (eval(expr, row)?, eval(low, row)?, eval(high, row)?);
            if [&v, &lo, &hi].contains(&&Value::Null) {
                return Ok(Value::Null);
            }
            let inside = compare(&v, &lo)?.is_ge() && compare(&v, &hi)?.is_le();
            Ok(Value::Bool(inside != *negated))
        }
        Expr::Like {
            negated,
            expr,
            pattern,
            ..
        } => {
            let (v, p) = (eval(expr, row)?, eval(pattern, row)?);
            if v == Value::Null || p == Value::Null {
                return Ok(Value::Null);
            }
            Ok(Value::Bool(like(&text_of(&v), &text_of(&p)) != *negated))
        }
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            let subject = operand.as_ref().map(|o| eval(o, row)).transpose()?;
            for c in conditions {
                let hit = match &subject {
                    Some(s) => {
                        let w = eval(&c.condition, row)?;
                        *s != Value::Null && w != Value::Null && compare(s, &w)?.is_eq()
                    }
                    None => truth(&eval(&c.condition, row)?)? == Some(true),
                };
                if hit {
                    return eval(&c.result, row);
                }
            }
            else_result
                .as_ref()
                .map_or(Ok(Value::Null), |e| eval(e, row))
        }
        Expr::Cast {
            expr, data_type, ..
        } => {
            let to = cast_type(&data_type.to_string())
                .ok_or_else(|| format!("a type to cast to, found `{data_type}`"))?;
            cast(eval(expr, row)?, to)
        }
        Expr::Function(f) => {
            let name = function_name(f).unwrap_or_default();
            let values = args(f)?
                .into_iter()
                .map(|a| eval(a, row))
                .collect::<Result<Vec<_>, _>>()?;
            call(&name, values)
        }
        other => Err(format!("`{other}` is not evaluated")),
    }
}

fn call(name: &str, values: Vec<Value>) -> Result<Value, EvalError> {
    let one = |values: &[Value]| -> Result<Value, EvalError> {
        match values {
            [v] => Ok(v.clone()),
            _ => Err(format!(
                "`{name}` takes one argument, found {}",
                values.len()
            )),
        }
    };
    Ok(match name {
        "coalesce" => values
            .into_iter()
            .find(|v| *v != Value::Null)
            .unwrap_or(Value::Null),
        "concat" => {
            if values.contains(&Value::Null) {
                Value::Null
            } else {
                Value::Str(values.iter().map(text_of).collect())
            }
        }
        "round" => {
            let (v, digits) = match values.as_slice() {
                [v] => (v.clone(), 0),
                [v, Value::Int(d)] => (v.clone(), *d),
                _ => return Err("`round` takes a number and optional digits".into()),
            };
            match v {
                Value::Null => Value::Null,
                Value::Int(i) => Value::Int(i),
                v => {
                    let f = v
                        .as_f64()
                        .ok_or_else(|| format!("a number to round, found {v:?}"))?;
                    let scale = 10f64.powi(digits.clamp(-15, 15) as i32);
                    Value::Float((f * scale).round() / scale)
                }
            }
        }
        _ => match (name, one(&values)?) {
            (_, Value::Null) => Value::Null,
            ("lower", v) => Value::Str(text_of(&v).to_lowercase()),
            ("upper", v) => Value::Str(text_of(&v).to_uppercase()),
            ("length", v) => Value::Int(text_of(&v).chars().count() as i64),
            ("abs", Value::Int(i)) => i.checked_abs().map_or(Value::Null, Value::Int),
            ("abs", Value::Float(f)) => Value::Float(f.abs()),
            (name, v) => return Err(format!("`{name}` of {v:?}")),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_follow_sql_null_rules() {
        let row = Row::from_pairs([
            ("a", Value::Int(7)),
            ("b", Value::Float(2.0)),
            ("s", Value::from("Open")),
            ("n", Value::Null),
            ("t", Value::Bool(true)),
        ]);
        type Case = (&'static str, Value);
        let cases: Vec<Case> = vec![
            ("a + 1", Value::Int(8)),
            ("a / 2", Value::Float(3.5)),
            ("a / 0", Value::Null),
            ("a % 4", Value::Int(3)),
            ("a * b", Value::Float(14.0)),
            ("-a", Value::Int(-7)),
            ("n + 1", Value::Null),
            ("a > 5 AND b < 3", Value::Bool(true)),
            ("n > 1", Value::Null),
            ("n > 1 AND false", Value::Bool(false)),
            ("n > 1 OR true", Value::Bool(true)),
            ("n > 1 OR false", Value::Null),
            ("NOT (n > 1)", Value::Null),
            ("n IS NULL", Value::Bool(true)),
            ("a IS NOT NULL", Value::Bool(true)),
            ("a IN (1, 7)", Value::Bool(true)),
            ("a IN (1, NULL)", Value::Null),
            ("a NOT IN (1, 2)", Value::Bool(true)),
            ("a BETWEEN 1 AND 7", Value::Bool(true)),
            ("s LIKE 'O%n'", Value::Bool(true)),
            ("s LIKE 'o%'", Value::Bool(false)),
            ("lower(s) = 'open'", Value::Bool(true)),
            ("upper(s) || '!'", Value::from("OPEN!")),
            ("length(s)", Value::Int(4)),
            ("coalesce(n, a)", Value::Int(7)),
            ("concat(s, '-', a)", Value::from("Open-7")),
            ("round(b / 3, 2)", Value::Float(0.67)),
            ("CAST(a AS STRING)", Value::from("7")),
            ("CAST('12' AS BIGINT) + 1", Value::Int(13)),
            ("CAST('x' AS DOUBLE)", Value::Null),
            (
                "CASE WHEN a > 5 THEN 'big' ELSE 'small' END",
                Value::from("big"),
            ),
            ("CASE s WHEN 'Open' THEN 1 END", Value::Int(1)),
            ("t = true", Value::Bool(true)),
        ];
        for (text, expected) in cases {
            let e = Expression::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(e.eval(&row), Ok(expected), "{text}");
        }
    }

    #[test]
    fn what_is_not_supported_is_refused_when_parsed() {
        type Case = (&'static str, &'static str);
        let cases: Vec<Case> = vec![
            ("median(a)", "a supported function: lower, upper, length, abs, coalesce, concat, round (`median` is not)"),
            ("a +", "a SQL expression (sql parser error: Expected: an expression, found: EOF)"),
            ("a = 1 b", "a SQL expression (sql parser error: Expected: EOF, found: b at Line: 1, Column: 7)"),
        ];
        for (text, expected) in cases {
            assert_eq!(Expression::parse(text).unwrap_err(), expected, "{text}");
        }
        let row = Row::from_pairs([("a", Value::Int(1))]);
        assert_eq!(
            Expression::parse("b > 1").unwrap().eval(&row),
            Err("no column `b` (the row has a)".to_string())
        );
        assert_eq!(
            Expression::parse("a + 'x'").unwrap().eval(&row),
            Err("numbers for `+`, found Int(1) and Str(\"x\")".to_string())
        );
    }
}
