//! STIX 2.1 patterns, parsed by recursive descent after the grammar in
//! the specification (`STIXPattern.g4`): observation expressions joined by
//! AND, OR and FOLLOWEDBY (lowest first: FOLLOWEDBY, OR, AND) with START/
//! STOP, WITHIN and REPEATS qualifiers; comparison expressions over object
//! paths with every operator and literal type. The tree is kept for
//! matching later; errors give the 1-based column.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    Observation(Comparison),
    And(Box<Pattern>, Box<Pattern>),
    Or(Box<Pattern>, Box<Pattern>),
    FollowedBy(Box<Pattern>, Box<Pattern>),
    Qualified(Box<Pattern>, Qualifier),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    StartStop(DateTime<Utc>, DateTime<Utc>),
    Within(f64),
    Repeats(u64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Comparison {
    And(Box<Comparison>, Box<Comparison>),
    Or(Box<Comparison>, Box<Comparison>),
    Test { path: ObjectPath, negated: bool, op: Op, value: Literal },
    Exists { path: ObjectPath, negated: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Neq,
    Gt,
    Lt,
    Ge,
    Le,
    In,
    Like,
    Matches,
    IsSubset,
    IsSuperset,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObjectPath {
    pub object_type: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index(i64),
    Any,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Int(i64),
    Float(f64),
    String(String),
    Binary(String),
    Hex(String),
    Bool(bool),
    Timestamp(DateTime<Utc>),
    Set(Vec<Literal>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Hex(String),
    Binary(String),
    Time(String),
    Int(i64),
    Float(f64),
    Punct(&'static str),
}

/// Patterns longer than this are refused: no real indicator comes close.
pub const MAX_PATTERN_CHARS: usize = 65_536;
/// Nesting of parentheses and brackets allowed, so recursion stays bounded.
const MAX_DEPTH: usize = 64;

fn lex(text: &str) -> Result<Vec<(Token, usize)>, PatternError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let err = |column: usize, message: String| PatternError { column: column + 1, message };
    let quoted = |start: usize| -> Result<(String, usize), PatternError> {
        // `start` is at the opening quote; returns the content and the index after the closing one.
        let mut out = String::new();
        let mut j = start + 1;
        while j < chars.len() {
            match chars[j] {
                '\\' if matches!(chars.get(j + 1), Some('\'') | Some('\\')) => {
                    out.push(chars[j + 1]);
                    j += 2;
                }
                '\\' => return Err(err(j, "only \\' and \\\\ may be escaped in a string".into())),
                '\'' => return Ok((out, j + 1)),
                c => {
                    out.push(c);
                    j += 1;
                }
            }
        }
        Err(err(start, "the string is not closed".into()))
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if matches!(c, 'h' | 'b' | 't') && chars.get(i + 1) == Some(&'\'') {
            let (content, next) = quoted(i + 1)?;
            tokens.push((
                match c {
                    'h' => Token::Hex(content),
                    'b' => Token::Binary(content),
                    _ => Token::Time(content),
                },
                start,
            ));
            i = next;
            continue;
        }
        if c == '\'' {
            let (content, next) = quoted(i)?;
            tokens.push((Token::Str(content), start));
            i = next;
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_' || chars[j] == '-') {
                j += 1;
            }
            tokens.push((Token::Word(chars[i..j].iter().collect()), start));
            i = j;
            continue;
        }
        let signed_number = matches!(c, '-' | '+') && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit() || *d == '.');
        if c.is_ascii_digit() || signed_number || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let mut j = i + usize::from(signed_number);
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            let mut float = false;
            if chars.get(j) == Some(&'.') {
                float = true;
                j += 1;
                let digits = j;
                while j < chars.len() && chars[j].is_ascii_digit() {
                    j += 1;
                }
                if j == digits {
                    return Err(err(start, "a decimal point needs digits after it".into()));
                }
            }
            let text: String = chars[i..j].iter().collect();
            let token = if float {
                Token::Float(text.parse().map_err(|_| err(start, format!("{text} is not a number")))?)
            } else {
                let digits = text.trim_start_matches(['-', '+']);
                if digits.len() > 1 && digits.starts_with('0') {
                    return Err(err(start, format!("{text}: integers have no leading zeros")));
                }
                Token::Int(text.parse().map_err(|_| err(start, format!("{text} is not a 64-bit integer")))?)
            };
            tokens.push((token, start));
            i = j;
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let punct = match two.as_str() {
            "!=" => Some("!="),
            "<>" => Some("!="),
            ">=" => Some(">="),
            "<=" => Some("<="),
            _ => None,
        };
        if let Some(p) = punct {
            tokens.push((Token::Punct(p), start));
            i += 2;
            continue;
        }
        let one = match c {
            '[' => "[",
            ']' => "]",
            '(' => "(",
            ')' => ")",
            ':' => ":",
            '.' => ".",
            ',' => ",",
            '*' => "*",
            '=' => "=",
            '<' => "<",
            '>' => ">",
            other => return Err(err(start, format!("unexpected character {other:?}"))),
        };
        tokens.push((Token::Punct(one), start));
        i += 1;
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    at: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn column(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(_, c)| *c) + 1
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, PatternError> {
        Err(PatternError { column: self.column(), message: message.into() })
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w == word)
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Token::Punct(q)) if *q == p)
    }

    fn expect_punct(&mut self, p: &str) -> Result<(), PatternError> {
        if self.is_punct(p) {
            self.at += 1;
            Ok(())
        } else {
            self.fail(format!("expected {p:?}"))
        }
    }

    fn enter(&mut self) -> Result<(), PatternError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH { self.fail(format!("nested more than {MAX_DEPTH} deep")) } else { Ok(()) }
    }

    fn observations(&mut self) -> Result<Pattern, PatternError> {
        let mut left = self.observation_or()?;
        while self.is_word("FOLLOWEDBY") {
            self.at += 1;
            left = Pattern::FollowedBy(Box::new(left), Box::new(self.observation_or()?));
        }
        Ok(left)
    }

    fn observation_or(&mut self) -> Result<Pattern, PatternError> {
        let mut left = self.observation_and()?;
        while self.is_word("OR") {
            self.at += 1;
            left = Pattern::Or(Box::new(left), Box::new(self.observation_and()?));
        }
        Ok(left)
    }

    fn observation_and(&mut self) -> Result<Pattern, PatternError> {
        let mut left = self.observation()?;
        while self.is_word("AND") {
            self.at += 1;
            left = Pattern::And(Box::new(left), Box::new(self.observation()?));
        }
        Ok(left)
    }

    fn observation(&mut self) -> Result<Pattern, PatternError> {
        self.enter()?;
        let mut expression = if self.is_punct("[") {
            self.at += 1;
            let comparison = self.comparison_or()?;
            self.expect_punct("]")?;
            Pattern::Observation(comparison)
        } else if self.is_punct("(") {
            self.at += 1;
            let inner = self.observations()?;
            self.expect_punct(")")?;
            inner
        } else {
            return self.fail("expected an observation expression: [ … ] or ( … )");
        };
        loop {
            let qualifier = if self.is_word("START") {
                self.at += 1;
                let start = self.timestamp()?;
                if !self.is_word("STOP") {
                    return self.fail("START needs STOP");
                }
                self.at += 1;
                let stop_column = self.column();
                let stop = self.timestamp()?;
                if stop <= start {
                    return Err(PatternError { column: stop_column, message: "STOP must be after START".into() });
                }
                Qualifier::StartStop(start, stop)
            } else if self.is_word("WITHIN") {
                self.at += 1;
                let seconds = match self.peek() {
                    Some(Token::Int(n)) if *n > 0 => *n as f64,
                    Some(Token::Float(f)) if *f > 0.0 => *f,
                    _ => return self.fail("WITHIN needs a positive number of seconds"),
                };
                self.at += 1;
                if !self.is_word("SECONDS") {
                    return self.fail("expected SECONDS");
                }
                self.at += 1;
                Qualifier::Within(seconds)
            } else if self.is_word("REPEATS") {
                self.at += 1;
                let times = match self.peek() {
                    Some(Token::Int(n)) if *n > 0 => u64::try_from(*n).unwrap_or(0),
                    _ => return self.fail("REPEATS needs a positive whole number"),
                };
                self.at += 1;
                if !self.is_word("TIMES") {
                    return self.fail("expected TIMES");
                }
                self.at += 1;
                Qualifier::Repeats(times)
            } else {
                break;
            };
            expression = Pattern::Qualified(Box::new(expression), qualifier);
        }
        self.depth -= 1;
        Ok(expression)
    }

    fn timestamp(&mut self) -> Result<DateTime<Utc>, PatternError> {
        match self.peek() {
            Some(Token::Time(text)) => {
                let parsed = crate::stix::timestamp(text);
                match parsed {
                    Some(t) => {
                        self.at += 1;
                        Ok(t)
                    }
                    None => self.fail(format!("t'{text}' is not a UTC timestamp")),
                }
            }
            _ => self.fail("expected a timestamp t'…Z'"),
        }
    }

    fn comparison_or(&mut self) -> Result<Comparison, PatternError> {
        let mut left = self.comparison_and()?;
        while self.is_word("OR") {
            self.at += 1;
            left = Comparison::Or(Box::new(left), Box::new(self.comparison_and()?));
        }
        Ok(left)
    }

    fn comparison_and(&mut self) -> Result<Comparison, PatternError> {
        let start = self.column();
        let mut left = self.prop_test()?;
        while self.is_word("AND") {
            self.at += 1;
            left = Comparison::And(Box::new(left), Box::new(self.prop_test()?));
        }
        // Comparisons joined by AND are about one object, so one type.
        let mut types = Vec::new();
        and_types(&left, &mut types);
        if types.windows(2).any(|w| w[0] != w[1]) {
            return Err(PatternError {
                column: start,
                message: format!("AND joins comparisons of different object types: {}", types.join(", ")),
            });
        }
        Ok(left)
    }

    fn prop_test(&mut self) -> Result<Comparison, PatternError> {
        if self.is_punct("(") {
            self.enter()?;
            self.at += 1;
            let inner = self.comparison_or()?;
            self.expect_punct(")")?;
            self.depth -= 1;
            return Ok(inner);
        }
        let mut negated = false;
        if self.is_word("NOT") && matches!(self.tokens.get(self.at + 1), Some((Token::Word(w), _)) if w == "EXISTS") {
            negated = true;
            self.at += 1;
        }
        if self.is_word("EXISTS") {
            self.at += 1;
            return Ok(Comparison::Exists { path: self.object_path()?, negated });
        }
        let path = self.object_path()?;
        if self.is_word("NOT") {
            negated = true;
            self.at += 1;
        }
        let op = match self.peek() {
            Some(Token::Punct("=")) => Op::Eq,
            Some(Token::Punct("!=")) => Op::Neq,
            Some(Token::Punct(">")) => Op::Gt,
            Some(Token::Punct("<")) => Op::Lt,
            Some(Token::Punct(">=")) => Op::Ge,
            Some(Token::Punct("<=")) => Op::Le,
            Some(Token::Word(w)) if w == "IN" => Op::In,
            Some(Token::Word(w)) if w == "LIKE" => Op::Like,
            Some(Token::Word(w)) if w == "MATCHES" => Op::Matches,
            Some(Token::Word(w)) if w == "ISSUBSET" => Op::IsSubset,
            Some(Token::Word(w)) if w == "ISSUPERSET" => Op::IsSuperset,
            _ => return self.fail("expected a comparison operator"),
        };
        self.at += 1;
        let value = match op {
            Op::In => self.set()?,
            Op::Like | Op::Matches | Op::IsSubset | Op::IsSuperset => match self.literal()? {
                Literal::String(s) => Literal::String(s),
                _ => return Err(PatternError { column: self.tokens[self.at - 1].1 + 1, message: "this operator takes a string".into() }),
            },
            Op::Gt | Op::Lt | Op::Ge | Op::Le => match self.literal()? {
                Literal::Bool(_) => {
                    return Err(PatternError { column: self.tokens[self.at - 1].1 + 1, message: "true and false are not ordered".into() });
                }
                other => other,
            },
            Op::Eq | Op::Neq => self.literal()?,
        };
        Ok(Comparison::Test { path, negated, op, value })
    }

    fn set(&mut self) -> Result<Literal, PatternError> {
        self.expect_punct("(")?;
        let mut items = Vec::new();
        if !self.is_punct(")") {
            items.push(self.literal()?);
            while self.is_punct(",") {
                self.at += 1;
                items.push(self.literal()?);
            }
        }
        self.expect_punct(")")?;
        Ok(Literal::Set(items))
    }

    fn literal(&mut self) -> Result<Literal, PatternError> {
        let literal = match self.peek() {
            Some(Token::Int(n)) => Literal::Int(*n),
            Some(Token::Float(f)) => Literal::Float(*f),
            Some(Token::Str(s)) => Literal::String(s.clone()),
            Some(Token::Word(w)) if w == "true" => Literal::Bool(true),
            Some(Token::Word(w)) if w == "false" => Literal::Bool(false),
            Some(Token::Hex(h)) => {
                if h.len() % 2 != 0 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
                    return self.fail("a hex literal is pairs of hex digits");
                }
                Literal::Hex(h.clone())
            }
            Some(Token::Binary(b)) => {
                let valid = b.len() % 4 == 0
                    && b.trim_end_matches('=').chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
                    && b.len() - b.trim_end_matches('=').len() <= 2;
                if !valid || b.is_empty() {
                    return self.fail("a binary literal is base64");
                }
                Literal::Binary(b.clone())
            }
            Some(Token::Time(_)) => Literal::Timestamp(self.timestamp()?),
            _ => return self.fail("expected a literal"),
        };
        if !matches!(literal, Literal::Timestamp(_)) {
            self.at += 1;
        }
        Ok(literal)
    }

    fn object_path(&mut self) -> Result<ObjectPath, PatternError> {
        let object_type = match self.peek() {
            Some(Token::Word(w)) if crate::stix::is_type_name(w) || w.starts_with("x-") => w.clone(),
            _ => return self.fail("expected an object type such as ipv4-addr"),
        };
        self.at += 1;
        self.expect_punct(":")?;
        let mut steps = Vec::new();
        match self.peek() {
            Some(Token::Word(w)) if !w.contains('-') => steps.push(Step::Key(w.clone())),
            Some(Token::Str(s)) => steps.push(Step::Key(s.clone())),
            _ => return self.fail("expected a property name"),
        }
        self.at += 1;
        loop {
            if self.is_punct(".") {
                self.at += 1;
                match self.peek() {
                    Some(Token::Word(w)) if !w.contains('-') => steps.push(Step::Key(w.clone())),
                    Some(Token::Str(s)) => steps.push(Step::Key(s.clone())),
                    _ => return self.fail("expected a property name after ."),
                }
                self.at += 1;
            } else if self.is_punct("[") && !matches!(self.tokens.get(self.at + 1), Some((Token::Word(_) | Token::Str(_), _))) {
                self.at += 1;
                match self.peek() {
                    Some(Token::Int(n)) => steps.push(Step::Index(*n)),
                    Some(Token::Punct("*")) => steps.push(Step::Any),
                    _ => return self.fail("expected an index or *"),
                }
                self.at += 1;
                self.expect_punct("]")?;
            } else {
                break;
            }
        }
        Ok(ObjectPath { object_type, steps })
    }
}

fn and_types(comparison: &Comparison, out: &mut Vec<String>) {
    match comparison {
        Comparison::And(a, b) => {
            and_types(a, out);
            and_types(b, out);
        }
        Comparison::Test { path, .. } | Comparison::Exists { path, .. } => out.push(path.object_type.clone()),
        // An OR inside parentheses may span types; its own ANDs were checked.
        Comparison::Or(..) => {}
    }
}

/// Parses a STIX pattern.
pub fn parse(text: &str) -> Result<Pattern, PatternError> {
    if text.chars().count() > MAX_PATTERN_CHARS {
        return Err(PatternError { column: 1, message: format!("longer than {MAX_PATTERN_CHARS} characters") });
    }
    let tokens = lex(text)?;
    let mut parser = Parser { end: text.chars().count(), tokens, at: 0, depth: 0 };
    let pattern = parser.observations()?;
    if parser.at < parser.tokens.len() {
        return parser.fail("unexpected text after the pattern");
    }
    Ok(pattern)
}
