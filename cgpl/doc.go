// Package cgpl implements CG/PL, the CommuniGate Pro programming language,
// in both its syntaxes (Basic-style "entry Main is ... end;" and C-style
// "entry Main { ... }"): a lexer and parser with precise, accumulated errors,
// a compiler to closures, a sandboxed runtime and the core function library,
// XML objects included. An Environment links a program with the modules it
// calls (M::F) through a Loader of the environment's files. The host
// (Ringo's PBX) adds call-control functions through a registration API and
// the directory functions through TaskOptions.Host, so this package knows
// nothing of SIP or of accounts.
//
// docs/cgpl.md describes the language as implemented here and the choices
// made where the original documentation is unclear.
package cgpl
