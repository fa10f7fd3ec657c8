package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/canary"
	"github.com/keywarden/keywarden/internal/canary/canaryaws"
	"github.com/keywarden/keywarden/internal/cloudtrail/cloudtrailaws"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/lambda"
	"github.com/keywarden/keywarden/internal/watch"
	"github.com/keywarden/keywarden/internal/watch/watchaws"
)

func newLambdaCmd(deps Deps) *cobra.Command {
	var canaries bool
	var statePath string
	cmd := &cobra.Command{
		Use:   "lambda",
		Short: "Run keywarden watch as an AWS Lambda function (S3 notifications, EventBridge CloudTrail events)",
		Long: `Inside AWS Lambda (AWS_LAMBDA_RUNTIME_API set) this serves invocations: S3 object-created
notifications for CloudTrail log files (direct, or wrapped in SNS or SQS, or EventBridge's
"Object Created") and EventBridge "AWS API Call via CloudTrail" events run through watch's
rules; state (dedup, baselines, processed objects) lives in the DynamoDB table named by
KEYWARDEN_STATE_TABLE and alerts go to the SNS topic KEYWARDEN_ALERT_TOPIC. The canaries of
KEYWARDEN_CANARIES (a JSON array) are watched, and checked for unlogged use on each EventBridge
"Scheduled Event". The bootstrap binary runs this when started with no arguments inside Lambda.

Outside Lambda it prints how to deploy it with deploy/template.yaml; with --canaries it prints
the canaries of the state database as KEYWARDEN_CANARIES wants them (the template's Canaries
parameter).

Exit status: 0 outside Lambda; 2 when --canaries cannot read the state database; inside, 2 on a
configuration error (KEYWARDEN_STATE_TABLE unset, a bad KEYWARDEN_FAIL_ON or KEYWARDEN_CANARIES),
else it serves until the runtime stops it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if canaries {
				return printLambdaCanaries(cmd.Context(), deps, statePath)
			}
			if !lambda.Running() {
				fmt.Fprint(deps.Stdout, lambda.DeployHelp)
				return nil
			}
			return startLambda(cmd.Context(), deps)
		},
	}
	cmd.Flags().BoolVar(&canaries, "canaries", false, "print the registered canaries as a JSON array for KEYWARDEN_CANARIES and exit")
	addState(cmd.Flags(), &statePath, ": with --canaries, the canaries")
	return cmd
}

// printLambdaCanaries writes the canary records the function's
// environment carries: no secret, only who each canary is and where it was
// planted.
func printLambdaCanaries(ctx context.Context, deps Deps, statePath string) error {
	db, err := deps.OpenState(statePath)
	if err != nil {
		return err
	}
	defer db.Close()
	reg, err := canary.Load(ctx, db)
	if err != nil {
		return err
	}
	all := reg.All()
	if all == nil {
		all = []canary.Canary{}
	}
	return json.NewEncoder(deps.Stdout).Encode(all)
}

// startLambda builds watch's pipeline over DynamoDB state and an SNS sink,
// and serves invocations; it returns only on a configuration error.
func startLambda(ctx context.Context, deps Deps) error {
	conf, err := lambda.ConfigFromEnv(deps.Getenv)
	if err != nil {
		return err
	}
	cfg, err := deps.LoadAWS(ctx, awsx.Options{})
	if err != nil {
		return err
	}
	store := watchaws.NewDynamoStore(cfg, conf.Table)
	lambda.Expire(store)
	p, err := watch.NewPipeline(watch.Config{Store: store, Sinks: []string{conf.Sink()},
		SinkEnv:  watch.SinkEnv{Stdout: deps.Stdout, SNS: watchaws.SNSPublisher(cfg)},
		Canaries: canary.NewRegistry(conf.Canaries...)})
	if err != nil {
		return err
	}
	p.MinSeverity = conf.FailOn
	lambda.Start(p, cloudtrailaws.NewS3(awsx.S3Client(cfg)), store, lambdaCanaries(deps, cfg, store, conf.Canaries))
	return nil
}

// lambdaCanaries is the scheduled canary check: the canaries of the
// function's environment, their baselines in its DynamoDB table.
func lambdaCanaries(deps Deps, cfg aws.Config, store detect.Store, cs []canary.Canary) *watch.CanaryPoller {
	if len(cs) == 0 {
		return nil
	}
	return &watch.CanaryPoller{
		Check: canary.Check{IAM: canaryaws.New(cfg), Seen: store, Grace: canary.DefaultGrace, Now: deps.Now},
		Load:  func(ctx context.Context) ([]canary.Canary, error) { return canary.WithStoredLastUsed(ctx, store, cs) },
		Save: func(ctx context.Context, changed []canary.Canary) error {
			return canary.StoreLastUsed(ctx, store, changed)
		},
	}
}
