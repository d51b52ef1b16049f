// Package examples holds the README's walk-throughs as bash scripts (curl
// and jq), one per story, and the test that runs each of them against the
// real binary, started on a database of its own. It holds no Go code the
// service uses, and a script must never depend on what an earlier run left
// in the database: each one names its people and organizations anew.
package examples
