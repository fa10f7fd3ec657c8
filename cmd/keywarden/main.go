// Command keywarden guards AWS access keys through their whole life.
package main

import (
	"os"

	"github.com/keywarden/keywarden/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Deps{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}
