package targetaws_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/rotate/target/targetaws"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// awsConfig starts (or resets) moto and returns a config pointing at it.
func awsConfig(t *testing.T) aws.Config {
	t.Helper()
	awstest.Moto(t)
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// env parses this package's kinds with cfg; tests never read the real environment.
func env(cfg aws.Config) target.Env {
	return target.Env{Kinds: targetaws.Kinds(cfg), Getenv: func(string) string { return "" }}
}

func mustParse(t *testing.T, spec string, cfg aws.Config) target.Target {
	t.Helper()
	tg, err := target.Parse(spec, env(cfg))
	if err != nil {
		t.Fatalf("Parse(%q): %v", spec, err)
	}
	return tg
}
