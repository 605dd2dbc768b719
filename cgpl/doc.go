// Package cgpl implements CG/PL, the CommuniGate Pro programming language,
// in both its syntaxes (Basic-style "entry Main is ... end;" and C-style
// "entry Main { ... }"): a lexer and parser with precise, accumulated errors,
// a compiler to closures, a sandboxed runtime and the core function library.
// The host (Ringo's PBX) adds call-control functions through a registration
// API, so this package knows nothing of SIP.
//
// docs/cgpl.md describes the language as implemented here and the choices
// made where the original documentation is unclear.
package cgpl
