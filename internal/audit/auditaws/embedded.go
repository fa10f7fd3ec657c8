package auditaws

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/klauspost/compress/gzip"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awsx"
)

// Bounds of the embedded-key reads, so that a huge or hostile account
// cannot make the audit run without end or hold unbounded memory. A read cut
// short warns and leaves the place unknown.
const (
	embeddedMaxResources = 2000    // functions, instances, task definitions, parameters: each, per region
	embeddedMaxUserData  = 1 << 20 // decompressed user data (AWS allows 16 KB raw, gzip'd)
	ssmBatch             = 10      // GetParameters takes at most 10 names
)

// lambdaEnv reads every function's environment: ListFunctions returns it,
// so one call per page reads them all.
func (rr *regionRead) lambdaEnv(ctx context.Context) {
	pages := lambda.NewListFunctionsPaginator(rr.lambda, &lambda.ListFunctionsInput{MaxItems: aws.Int32(50)})
	seen := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			rr.fail("lambda:ListFunctions", err, audit.WhereLambdaEnv)
			return
		}
		rr.ok()
		for _, fn := range page.Functions {
			if seen++; seen > embeddedMaxResources {
				rr.tooMany("Lambda functions", audit.WhereLambdaEnv)
				return
			}
			if fn.Environment != nil {
				rr.embedded = append(rr.embedded,
					audit.EmbeddedInEnv(audit.WhereLambdaEnv, aws.ToString(fn.FunctionArn), "", fn.Environment.Variables)...)
			}
		}
	}
}

// ec2UserData reads the user data of the instances listInstances found
// (one DescribeInstanceAttribute per instance: DescribeInstances does not
// return it). Nothing is read when the listing failed; that left the place
// unread already.
func (rr *regionRead) ec2UserData(ctx context.Context) {
	if rr.unread[placeInstances] {
		return
	}
	ids := rr.ids
	if len(ids) > embeddedMaxResources {
		ids = ids[:embeddedMaxResources]
		rr.tooMany("EC2 instances", audit.WhereEC2UserData)
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		rr.instanceUserData(ctx, id)
	}
}

func (rr *regionRead) instanceUserData(ctx context.Context, id string) {
	out, err := rr.ec2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{
		InstanceId: aws.String(id), Attribute: ec2types.InstanceAttributeNameUserData})
	if err != nil {
		rr.fail("ec2:DescribeInstanceAttribute", err, audit.WhereEC2UserData)
		return
	}
	if out.UserData == nil || aws.ToString(out.UserData.Value) == "" {
		return
	}
	data, err := decodeUserData(aws.ToString(out.UserData.Value))
	if err != nil {
		rr.warn("user data of instance %s in %s: %v: scanned as far as it could be read", id, rr.region, err)
		rr.cut = append(rr.cut, fmt.Sprintf("user data of instance %s only partly decoded: %v", id, err))
	}
	// An account's instances are its own; ReadAccount reads the regions
	// once the account id is known.
	arn := fmt.Sprintf("arn:%s:ec2:%s:%s:instance/%s", awsx.Partition(rr.region), rr.region, rr.acct.inv.AccountID, id)
	rr.embedded = append(rr.embedded, audit.EmbeddedInText(audit.WhereEC2UserData, arn, "userData", data)...)
}

// decodeUserData undoes the attribute's base64 and, when the user data is
// gzip'd (common with cloud-init), decompresses up to embeddedMaxUserData.
// On an error it returns what it could decode, so that is still scanned.
func decodeUserData(b64 string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return []byte(b64), fmt.Errorf("not base64: %w", err)
	}
	if len(raw) < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
		return raw, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return raw, fmt.Errorf("gzip: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, embeddedMaxUserData+1))
	if err != nil {
		return out, fmt.Errorf("gzip: %w", err)
	}
	if len(out) > embeddedMaxUserData {
		return out[:embeddedMaxUserData], fmt.Errorf("decompressed user data exceeds %d bytes", embeddedMaxUserData)
	}
	return out, nil
}

// ecsTaskEnv reads the environment of every container of every ACTIVE task
// definition revision (one DescribeTaskDefinition per revision).
func (rr *regionRead) ecsTaskEnv(ctx context.Context) {
	pages := ecs.NewListTaskDefinitionsPaginator(rr.ecs, &ecs.ListTaskDefinitionsInput{
		Status: ecstypes.TaskDefinitionStatusActive, MaxResults: aws.Int32(100)})
	seen := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			rr.fail("ecs:ListTaskDefinitions", err, audit.WhereECSTaskEnv)
			return
		}
		rr.ok()
		for _, arn := range page.TaskDefinitionArns {
			if seen++; seen > embeddedMaxResources {
				rr.tooMany("ECS task definitions", audit.WhereECSTaskEnv)
				return
			}
			if ctx.Err() != nil {
				return
			}
			out, err := rr.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)})
			if err != nil {
				rr.fail("ecs:DescribeTaskDefinition", err, audit.WhereECSTaskEnv)
				continue
			}
			if out.TaskDefinition == nil {
				continue
			}
			for _, c := range out.TaskDefinition.ContainerDefinitions {
				rr.containerEnv(arn, c)
			}
		}
	}
}

func (rr *regionRead) containerEnv(arn string, c ecstypes.ContainerDefinition) {
	vars := map[string]string{}
	for _, kv := range c.Environment {
		vars[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
	}
	rr.embedded = append(rr.embedded, audit.EmbeddedInEnv(audit.WhereECSTaskEnv, arn, aws.ToString(c.Name)+"/", vars)...)
}

// ssmStrings reads every String parameter (SecureString values are
// encrypted by design and not read), in batches of ten.
func (rr *regionRead) ssmStrings(ctx context.Context) {
	pages := ssm.NewDescribeParametersPaginator(rr.ssm, &ssm.DescribeParametersInput{
		MaxResults: aws.Int32(50),
		ParameterFilters: []ssmtypes.ParameterStringFilter{{
			Key: aws.String("Type"), Option: aws.String("Equals"), Values: []string{string(ssmtypes.ParameterTypeString)}}},
	})
	var names []string
	for pages.HasMorePages() && len(names) <= embeddedMaxResources {
		page, err := pages.NextPage(ctx)
		if err != nil {
			rr.fail("ssm:DescribeParameters", err, audit.WhereSSMString)
			return
		}
		rr.ok()
		for _, p := range page.Parameters {
			names = append(names, aws.ToString(p.Name))
		}
	}
	if len(names) > embeddedMaxResources {
		names = names[:embeddedMaxResources]
		rr.tooMany("SSM String parameters", audit.WhereSSMString)
	}
	for batch := range slices.Chunk(names, ssmBatch) {
		if ctx.Err() != nil {
			return
		}
		out, err := rr.ssm.GetParameters(ctx, &ssm.GetParametersInput{Names: batch})
		if err != nil {
			rr.fail("ssm:GetParameters", err, audit.WhereSSMString)
			continue
		}
		for _, p := range out.Parameters {
			if p.Type != ssmtypes.ParameterTypeString {
				continue
			}
			rr.embedded = append(rr.embedded,
				audit.EmbeddedInText(audit.WhereSSMString, aws.ToString(p.ARN), aws.ToString(p.Name), []byte(aws.ToString(p.Value)))...)
		}
	}
}
