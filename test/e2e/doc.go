// Package e2e holds end-to-end tests that create real clusters. They need Docker and
// run only with the e2e build tag:
//
//	go test -tags e2e -timeout 30m ./test/e2e/...
package e2e
