package awsx

import (
	"os"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// IAM is an IAM client for cfg that reads error codes from every XML error
// layout (LenientErrors), so NoSuchEntity and AccessDenied are told apart
// whoever answers.
func IAM(cfg aws.Config) *iam.Client {
	return iam.NewFromConfig(cfg, func(o *iam.Options) { o.APIOptions = append(slices.Clip(o.APIOptions), LenientErrors) })
}

// STS is an STS client for cfg, with LenientErrors.
func STS(cfg aws.Config) *sts.Client {
	return sts.NewFromConfig(cfg, func(o *sts.Options) { o.APIOptions = append(slices.Clip(o.APIOptions), LenientErrors) })
}

// S3Client is the S3 client for reading CloudTrail logs. A local endpoint
// (an emulator, a proxy: AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3) has no
// bucket subdomains, so it is addressed by path; and log objects carry no
// checksum, which is not worth a log line each.
func S3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
		o.DisableLogOutputChecksumValidationSkipped = true
	})
}
