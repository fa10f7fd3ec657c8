package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/cloudtrail/cloudtrailaws"
	"github.com/keywarden/keywarden/internal/lambda"
	"github.com/keywarden/keywarden/internal/watch"
	"github.com/keywarden/keywarden/internal/watch/watchaws"
)

func newLambdaCmd(deps Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "lambda",
		Short: "Run keywarden watch as an AWS Lambda function (S3 notifications, EventBridge CloudTrail events)",
		Long: `Inside AWS Lambda (AWS_LAMBDA_RUNTIME_API set) this serves invocations: S3 object-created
notifications for CloudTrail log files (direct, or wrapped in SNS or SQS, or EventBridge's
"Object Created") and EventBridge "AWS API Call via CloudTrail" events run through watch's
rules; state (dedup, baselines, processed objects) lives in the DynamoDB table named by
KEYWARDEN_STATE_TABLE and alerts go to the SNS topic KEYWARDEN_ALERT_TOPIC. The bootstrap
binary runs this when started with no arguments inside Lambda.

Outside Lambda it prints how to deploy it with deploy/template.yaml.

Exit status: 0 outside Lambda; inside, 2 on a configuration error (KEYWARDEN_STATE_TABLE unset,
a bad KEYWARDEN_FAIL_ON), else it serves until the runtime stops it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !lambda.Running() {
				fmt.Fprint(deps.Stdout, lambda.DeployHelp)
				return nil
			}
			return startLambda(cmd.Context(), deps)
		},
	}
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
		SinkEnv: watch.SinkEnv{Stdout: deps.Stdout, SNS: watchaws.SNSPublisher(cfg)}})
	if err != nil {
		return err
	}
	p.MinSeverity = conf.FailOn
	lambda.Start(p, cloudtrailaws.NewS3(awsx.S3Client(cfg)), store)
	return nil
}
