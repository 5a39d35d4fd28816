// Package spec turns the seed CLI's flags into an OCI runtime spec.
//
// Everything here is pure logic: apart from reading /etc/passwd and
// /etc/group inside the rootfs (and checking that paths exist), nothing
// touches the host, so the whole package is covered by unit tests.
package spec
