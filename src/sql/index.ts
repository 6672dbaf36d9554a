// Public surface of src/sql: parse, format, normalize, rewrite, and the AST types.

export type * from './ast.js';
export type * from './ast-stored.js';
export type { SequenceDdl } from './sequence-ddl.js';
export type { SetStatementFor } from './set-statement.js';
export type { ExecuteImmediate } from './execute-immediate.js';
export type { ServerStatement } from './opaque.js';
export { and, bindVar, column, conjuncts, intLiteral, isQuery, stringLiteral, tableName } from './ast.js';
export { isEmptyStatement, leadingWords, parse, splitStatements, userVariablesIn, PARSE_DEPTH_MAX, type ParseOptions } from './parser.js';
export { format, formatExpr, formatTableName, isPlaceholderLiteral, placeholdersBound, splicePlaceholders, PLACEHOLDERS_MAX, quoteIdent, quoteString, valueLiteral, type BindValue, type FormatOptions, type LiteralRow, type PlaceholderStatement } from './format.js';
export { normalize, normalizeSql, BIND_VAR_PREFIX, type Normalized, type NormalizeOptions } from './normalize.js';
export { rewrite, rewriteExpr, rewriteQuery, rewriteTableExpr, tableNames, walk, type ExprPlace, type Rewriter } from './walk.js';
export { syntaxError, NEAR_TEXT_CHARS_MAX } from './errors.js';
export { K, keywordId, keywordText, QUOTE_WORDS } from './keywords.js';
