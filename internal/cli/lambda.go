package cli

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/detect"
	"github.com/keywarden/keywarden/internal/lambda"
	"github.com/keywarden/keywarden/internal/severity"
	"github.com/keywarden/keywarden/internal/watch"
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

// lambdaStore is the function's state table. What the function only ever
// adds (dedup marks, the markers of processed objects and events) expires
// through the table's TTL; baselines and burst windows are kept.
func lambdaStore(cfg aws.Config, table string) *awsx.DynamoStore {
	store := awsx.NewDynamoStore(cfg, table)
	store.SetTTL(watch.DedupNamespace, watch.DefaultDedupWindow+watch.DedupKeep)
	store.SetTTL(lambda.ObjectsNamespace, lambda.MarkerKeep)
	store.SetTTL(lambda.EventsNamespace, lambda.MarkerKeep)
	return store
}

// startLambda builds watch's pipeline over DynamoDB state and an SNS sink,
// and serves invocations; it returns only on a configuration error.
func startLambda(ctx context.Context, deps Deps) error {
	conf, err := lambda.ConfigFromEnv()
	if err != nil {
		return err
	}
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		return err
	}
	store := lambdaStore(cfg, conf.Table)
	stateful := []detect.Detector{detect.AccessDeniedBurst(store), detect.ReconBurst(store),
		detect.SESVolume(store, sesAlertPerHour), &detect.Baseline{Store: store}}
	p := &watch.Pipeline{Detector: detect.NewEngine(stateful...), Filter: watch.NewDeduper(store, 0)}
	if conf.Topic != "" {
		sink, err := watch.ParseSink("sns:"+conf.Topic, watch.SinkEnv{Stdout: deps.Stdout, AWS: cfg})
		if err != nil {
			return err
		}
		p.Sinks = append(p.Sinks, sink)
	} else {
		sink, _ := watch.ParseSink("jsonl", watch.SinkEnv{Stdout: deps.Stdout}) // CloudWatch Logs
		p.Sinks = append(p.Sinks, sink)
	}
	if conf.FailOn != "" {
		lvl, err := severity.Parse(conf.FailOn)
		if err != nil {
			return fmt.Errorf("%s: %w", lambda.EnvFailOn, err)
		}
		p.MinSeverity = lvl
	}
	lambda.Start(committing{p}, awsx.S3Client(cfg), store)
	return nil
}

// committing saves the detectors' state after each invocation's events.
type committing struct{ p *watch.Pipeline }

func (c committing) Process(ctx context.Context, events []cloudtrail.Event) error {
	if err := c.p.Process(ctx, events); err != nil {
		return err
	}
	return c.p.Commit(ctx)
}
