//! jq mappings, run by jaq: canonical JSON → partner tree (outbound) and
//! partner tree → canonical JSON (inbound).
//!
//! A mapping is compiled once and kept in a [`MappingCache`]; running it is
//! then only the jq evaluation. Every mapping sees three global variables:
//! `$partner` (the template's settings), `$ctx` (per-run values such as the
//! control reference and the clock) and `$tables` (versioned lookup tables
//! such as the status normalisation table). A small prelude (`segs`, `seg`,
//! `el`, `comp`, `val`, `as_list`, `blank_null`) makes EDI trees easy to walk.
//!
//! One difference from jq that mapping authors meet: jaq raises an error when
//! a path indexes into `null` (`.a.b` where `.a` is missing), so optional
//! nested fields are written `(.a.b)? // null`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Native, RcIter};
use jaq_json::Val;

use super::Tree;

const PRELUDE: &str = include_str!("mapping/prelude.jq");
const GLOBALS: [&str; 3] = ["$partner", "$ctx", "$tables"];

/// A mapping could not be loaded, compiled or run.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The file could not be read.
    #[error("mapping {path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The program does not compile.
    #[error("mapping {path}:{line}:{column}: {message}")]
    Compile {
        /// File.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Evaluation raised an error.
    #[error("mapping {path} failed: {message}")]
    Runtime {
        /// File.
        path: PathBuf,
        /// jq error text.
        message: String,
    },
    /// The program produced no value.
    #[error("mapping {path} produced no output")]
    NoOutput {
        /// File.
        path: PathBuf,
    },
    /// The program produced several values where one document is expected.
    #[error("mapping {path} produced {count} outputs; a mapping must produce exactly one document")]
    ManyOutputs {
        /// File.
        path: PathBuf,
        /// How many.
        count: usize,
    },
}

/// Values a mapping run sees besides its input.
#[derive(Clone, Debug, Default)]
pub struct Globals {
    /// `$partner`.
    pub partner: Tree,
    /// `$ctx`.
    pub ctx: Tree,
    /// `$tables`.
    pub tables: Tree,
}

impl Globals {
    /// The three values in the order the compiler declared them.
    pub fn to_vals(&self) -> [Val; 3] {
        [
            self.partner.to_val(),
            self.ctx.to_val(),
            self.tables.to_val(),
        ]
    }
}

/// A compiled mapping.
pub struct Mapping {
    path: PathBuf,
    filter: jaq_core::Filter<Native<Val>>,
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn line_column(code: &str, offset: usize) -> (usize, usize) {
    let before = &code[..offset.min(code.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Byte offset of `part` inside `whole`, if it is a slice of it.
fn offset_in(whole: &str, part: &str) -> Option<usize> {
    let start = whole.as_ptr() as usize;
    let at = part.as_ptr() as usize;
    (at >= start && at <= start + whole.len()).then(|| at - start)
}

impl Mapping {
    /// Compiles a mapping file.
    pub fn load(path: &Path) -> Result<Self, MappingError> {
        let code = std::fs::read_to_string(path).map_err(|source| MappingError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::compile(path, &code)
    }

    /// Compiles mapping source; `path` names it in errors.
    pub fn compile(path: &Path, code: &str) -> Result<Self, MappingError> {
        let compile_error = |at: &str, message: String| {
            let (line, column) = offset_in(code, at).map_or((0, 0), |o| line_column(code, o));
            MappingError::Compile {
                path: path.to_owned(),
                line,
                column,
                message,
            }
        };
        let prelude = jaq_core::load::parse(PRELUDE, |p| p.defs()).unwrap_or_default();
        let loader = Loader::new(jaq_std::defs().chain(jaq_json::defs()).chain(prelude));
        let arena = Arena::default();
        let modules = loader
            .load(&arena, File { code, path: () })
            .map_err(|errors| {
                let Some((_, error)) = errors.into_iter().next() else {
                    return compile_error(code, "unknown load error".into());
                };
                match error {
                    jaq_core::load::Error::Io(items) => {
                        let (at, msg) = items
                            .into_iter()
                            .next()
                            .unwrap_or((code, "I/O error".into()));
                        compile_error(at, msg)
                    }
                    jaq_core::load::Error::Lex(items) => match items.into_iter().next() {
                        Some((expect, at)) => {
                            compile_error(at, format!("expected {}", expect.as_str()))
                        }
                        None => compile_error(code, "lex error".into()),
                    },
                    jaq_core::load::Error::Parse(items) => match items.into_iter().next() {
                        Some((expect, at)) => {
                            let found = at.split_whitespace().next().unwrap_or("end of input");
                            compile_error(
                                at,
                                format!("expected {}, found '{found}'", expect.as_str()),
                            )
                        }
                        None => compile_error(code, "parse error".into()),
                    },
                }
            })?;
        let filter = Compiler::default()
            .with_funs(jaq_std::funs().chain(jaq_json::funs()))
            .with_global_vars(GLOBALS)
            .compile(modules)
            .map_err(|errors| {
                let first = errors
                    .into_iter()
                    .next()
                    .and_then(|(_, errs)| errs.into_iter().next());
                match first {
                    Some((name, undefined)) => {
                        compile_error(name, format!("undefined {} '{name}'", undefined.as_str()))
                    }
                    None => compile_error(code, "compile error".into()),
                }
            })?;
        Ok(Self {
            path: path.to_owned(),
            filter,
        })
    }

    /// The file this mapping was compiled from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs on a jaq value; exactly one output is expected.
    pub fn run_val(&self, input: Val, globals: [Val; 3]) -> Result<Val, MappingError> {
        let inputs = RcIter::new(core::iter::empty());
        let mut out = self.filter.run((Ctx::new(globals, &inputs), input));
        let first = match out.next() {
            None => {
                return Err(MappingError::NoOutput {
                    path: self.path.clone(),
                });
            }
            Some(Err(e)) => {
                return Err(MappingError::Runtime {
                    path: self.path.clone(),
                    message: e.to_string(),
                });
            }
            Some(Ok(v)) => v,
        };
        let extra = out.count();
        if extra > 0 {
            return Err(MappingError::ManyOutputs {
                path: self.path.clone(),
                count: extra + 1,
            });
        }
        Ok(first)
    }

    /// Runs on a tree.
    pub fn run(&self, input: &Tree, globals: &Globals) -> Result<Tree, MappingError> {
        self.run_vals(input, globals.to_vals())
    }

    /// Runs on a tree with globals already converted.
    pub fn run_vals(&self, input: &Tree, globals: [Val; 3]) -> Result<Tree, MappingError> {
        self.run_val(input.to_val(), globals)
            .map(|v| Tree::from_val(&v))
    }

    /// Runs on canonical JSON.
    pub fn run_json(
        &self,
        input: &serde_json::Value,
        globals: &Globals,
    ) -> Result<Tree, MappingError> {
        self.run_json_vals(input, globals.to_vals())
    }

    /// Runs on canonical JSON with globals already converted.
    pub fn run_json_vals(
        &self,
        input: &serde_json::Value,
        globals: [Val; 3],
    ) -> Result<Tree, MappingError> {
        self.run_val(Tree::json_to_val(input), globals)
            .map(|v| Tree::from_val(&v))
    }
}

/// Compiled mappings by file, so each is compiled once per process.
#[derive(Debug, Default)]
pub struct MappingCache {
    compiled: HashMap<PathBuf, Rc<Mapping>>,
}

impl MappingCache {
    /// Empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The compiled mapping for a file, compiling it on first use.
    pub fn get(&mut self, path: &Path) -> Result<Rc<Mapping>, MappingError> {
        if let Some(m) = self.compiled.get(path) {
            return Ok(Rc::clone(m));
        }
        let mapping = Rc::new(Mapping::load(path)?);
        self.compiled.insert(path.to_owned(), Rc::clone(&mapping));
        Ok(mapping)
    }

    /// Number of compiled mappings held.
    pub fn len(&self) -> usize {
        self.compiled.len()
    }

    /// True when nothing is compiled yet.
    pub fn is_empty(&self) -> bool {
        self.compiled.is_empty()
    }
}

#[cfg(test)]
mod tests;
