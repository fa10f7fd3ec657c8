package cli

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/keywarden/keywarden/internal/awstest"
)

// TestMain lets testscript run the keywarden binary as this test binary.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" { // a test runs this binary as keywarden, to kill it
		os.Exit(Main(os.Args[1:], Deps{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
	}
	testscript.Main(motoStopper{m}, map[string]func(){
		"keywarden": func() {
			dropDACIfAsked()
			os.Exit(Main(os.Args[1:], Deps{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
		},
	})
}

// motoStopper stops the moto servers the tests started once they have run.
type motoStopper struct{ m *testing.M }

func (s motoStopper) Run() int { return awstest.RunAndStop(s.m) }

// TestScripts runs the end-to-end CLI scripts in testdata/script over real
// files, real git repositories and (where a script needs it) moto. Each
// script's HOME is its work directory, so ~/.aws, the state database and the
// store are the script's own.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "../../testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("GIT_AUTHOR_NAME", "Alice Example")
			env.Setenv("GIT_AUTHOR_EMAIL", "alice@example.invalid")
			env.Setenv("GIT_COMMITTER_NAME", "Alice Example")
			env.Setenv("GIT_COMMITTER_EMAIL", "alice@example.invalid")
			env.Setenv("GIT_AUTHOR_DATE", "2024-03-01T12:00:00Z")
			env.Setenv("GIT_COMMITTER_DATE", "2024-03-01T12:00:00Z")
			env.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			env.Setenv("HOME", env.WorkDir)
			env.Values[scriptStateKey{}] = &scriptState{t: env.T()}
			return nil
		},
		// script_cmds_test.go, script_moto_test.go and script_lambda_test.go
		// document each command.
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"archive":       cmdArchive,
			"capture":       cmdCapture,
			"credfile":      cmdCredfile,
			"ctlookup":      cmdCTLookup(t),
			"drillqueues":   cmdDrillQueues,
			"dynamotable":   cmdDynamoTable,
			"exits":         cmdExits,
			"expand":        cmdExpand,
			"fakekey":       cmdFakeKey,
			"helpall":       cmdHelpAll,
			"iamconsole":    cmdIAMConsole,
			"iamshow":       cmdIAMShow,
			"iamuser":       cmdIAMUser(t),
			"lambdaruntime": cmdLambdaRuntime,
			"lambdawait":    cmdLambdaWait,
			"mode":          cmdMode,
			"moto":          cmdMoto(t),
			"now":           cmdNow,
			"s3put":         cmdS3Put,
			"snstopic":      cmdSNSTopic,
			"truncate":      cmdTruncate,
			"unreadable":    cmdUnreadable,
		},
	})
}
