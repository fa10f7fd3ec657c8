package awsx

import (
	"context"
	"slices"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
)

// Count returns cfg with a counter of AWS operations: every client built
// from it, and from the configs derived from it, counts each operation it
// starts, retries not included. The drill reports its own overhead in calls
// with it; tests count the calls a verb makes.
func Count(cfg aws.Config) (aws.Config, func() int) {
	var n atomic.Int64
	count := middleware.InitializeMiddlewareFunc("KeywardenCount",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			n.Add(1)
			return next.HandleInitialize(ctx, in)
		})
	cfg = cfg.Copy()
	cfg.APIOptions = append(slices.Clip(cfg.APIOptions), func(s *middleware.Stack) error { return s.Initialize.Add(count, middleware.Before) })
	return cfg, func() int { return int(n.Load()) }
}
