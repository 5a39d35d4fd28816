// Command container is llcr's runtime binary.
package main

import (
	"os"

	"llcr/runtime/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
