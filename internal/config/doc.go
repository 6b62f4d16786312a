// Package config is the one model of a WireGuard configuration file, for
// wg(8)'s setconf/addconf/syncconf dialect and for wg-quick(8)'s dialect
// alike: it parses both, formats the showconf, strip and save texts byte for
// byte as the reference tools do, and reports every error with the file, the
// line and the reference's wording.
//
// # Why the grammar is parsed by hand and not with gopkg.in/ini.v1
//
// The project card names ini.v1 as the INI library. We tried it and parse by
// hand instead, because the reference grammar is not INI in the ways that
// matter and ini.v1 cannot be configured to match it:
//
//   - wg deletes every whitespace character inside a line before matching
//     (`List en Port = 5 1820` is ListenPort 51820, `[ Interface ]` is a
//     section header). ini.v1 keeps inner whitespace in keys and section names.
//   - Error messages must quote the line as wg cleaned it (“Line unrecognized:
//     `Foo=bar'”) and name the line number; ini.v1 exposes neither the cleaned
//     text nor line numbers of keys.
//   - A key line before any section is an error for wg; ini.v1 silently files
//     it under its DEFAULT section.
//   - wg-quick's hooks keep the raw text after `=` including `#` and `;`,
//     while wg's keys are cut at `#`; one file needs both rules on the same
//     line. ini.v1's IgnoreInlineComment and friends are global switches.
//   - ini.v1's defaults would also unquote values, honour `\` continuation,
//     split on `:` and treat `;` as a comment, each of which breaks real
//     configs (`PostUp = iptables -A ...; iptables -A ...`).
//
// The whole grammar is some eighty lines (see lexQuick and parseWGLine), each
// rule citing the reference behaviour it reproduces, so a hand-written
// scanner is both smaller and exact.
//
// # Two layers
//
// Parsing is split the way wg-quick splits it. The lexical layer (lex)
// decides, line by line, which lines wg-quick consumes itself (Address, DNS,
// MTU, Table, hooks, SaveConfig inside [Interface]) and which it hands to wg;
// it alone is what `wg-quick strip` needs (Strip). The semantic layer parses
// the wg lines with wg's grammar as they come and validates wg-quick's own
// values (ParseQuick), so that `wg-quick up` can refuse a bad file before
// it touches the system. Neither keeps a list of lines.
package config
