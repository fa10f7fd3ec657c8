// Package scrub finds plaintext AWS keys in the places they are usually left
// in a home directory, so that `keywarden creds scrub` can offer to move them
// into the encrypted store. It only decides where to look and what a match
// means for the user (which profile, whether it can be imported): the bytes
// are read by internal/source and judged by internal/scan's detector, so a
// key the scanner would not report (an AWS documentation example, a line
// marked keywarden:allow) is not reported here either.
package scrub

import (
	"path/filepath"
	"strings"
)

// treeSuffix ends a place that is a whole directory tree, walked with the
// bounds of limits (depth, size, file count) and without following symlinks.
const treeSuffix = "**"

// Places returns the path patterns under home where plaintext keys hide, in
// the order they are scanned: the most likely places first, so that if the
// byte or file budget runs out it runs out in ~/.config, not in ~/.aws.
//
// A pattern is one of:
//   - a path: scanned when it is a regular file (a symlink to a file is
//     followed, as dotfile managers link ~/.bashrc into a repository);
//   - a path with * ? [ in its last components: expanded with filepath.Glob,
//     each * matching within one directory level, so the expansion is bounded;
//   - a directory followed by a separator and "**": the tree below it,
//     walked without following symlinks, skipping node_modules, .git and
//     caches, to a bounded depth.
//
// .env files are looked for in home, in every directory directly under home
// (~/myapp/.env) and one and two levels into the usual project roots
// (~/code/app/.env, ~/src/github.com-org/app/.env would be three levels and
// is not searched: the bound keeps a scrub of a developer's home in seconds;
// pass such trees to Scan as extra dirs).
func Places(home string) []string {
	j := func(parts ...string) string { return filepath.Join(append([]string{home}, parts...)...) }
	tree := func(parts ...string) string { return j(parts...) + string(filepath.Separator) + treeSuffix }
	var out []string
	add := func(p ...string) { out = append(out, p...) }

	// The SDK's shared files, and everything beside them: backups such as
	// credentials.bak or credentials.old are the classic forgotten copy, and
	// ~/.aws/cli/cache holds temporary credentials in clear.
	add(tree(".aws"))

	// Shell start-up files: "export AWS_ACCESS_KEY_ID=…" is the most common
	// way a key gets set "just for now" and then stays.
	for _, rc := range []string{".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshrc", ".zshenv",
		".zprofile", ".zlogin", ".kshrc", ".cshrc", ".tcshrc"} {
		add(j(rc))
	}
	add(j(".config", "fish", "config.fish"))
	add(j(".config", "fish", "conf.d", "*.fish"))
	// Shell history: every key ever pasted on a command line is still there.
	add(j(".bash_history"), j(".zsh_history"), j(".histfile"), j(".sh_history"),
		j(".local", "share", "fish", "fish_history"))

	add(j(".docker", "config.json"))       // registry auths, base64 "user:password"
	add(j(".kube", "config"))              // exec credential plugins (aws-iam-authenticator) take AWS_* env values
	add(j(".netrc"))                       // machine/login/password used by curl, git-remote-s3, dvc with S3 remotes
	add(j(".s3cfg"))                       // s3cmd: access_key / secret_key
	add(j(".boto"))                        // boto 2 and gsutil: aws_access_key_id / aws_secret_access_key
	add(j(".passwd-s3fs"))                 // s3fs: ACCESS_KEY_ID:SECRET_ACCESS_KEY
	add(j(".awssecret"))                   // the old "aws" perl tool: id and secret on two lines
	add(j(".mc", "config.json"))           // MinIO client: the s3 alias holds accessKey / secretKey
	add(j(".terraformrc"))                 // terraform CLI config: provider credential blocks
	add(j(".npmrc"))                       // registry tokens; CodeArtifact set-ups paste AWS keys here too
	add(j(".gradle", "gradle.properties")) // S3-hosted Maven repositories: awsAccessKey / awsSecretKey
	add(j(".m2", "settings.xml"))          // S3 wagons: <username>/<password> are an access key pair
	// VS Code user settings where ~/.config is not used (macOS, Windows):
	// AWS Toolkit and REST-client settings end up with keys pasted in.
	add(j("Library", "Application Support", "Code", "User", "settings.json"))
	add(j("AppData", "Roaming", "Code", "User", "settings.json"))

	// The IAM console's "Download .csv file" of a new access key lands in
	// Downloads (user_accessKeys.csv, older credentials.csv) and is often
	// moved to the desktop or documents.
	for _, d := range []string{"", "Downloads", "Desktop", "Documents"} {
		for _, g := range []string{"*accessKeys*.csv", "*credentials*.csv", "*access_keys*.csv"} {
			add(j(d, g))
		}
	}

	add(envPlaces(home)...)

	// Application settings: rclone, VS Code settings.json, IDE plugins and
	// desktop S3 clients keep keys under ~/.config. Walked last and bounded.
	add(tree(".config"))
	return out
}

// envNames are the file names of environment and variable files.
var envNames = []string{".env", ".env.*", "*.env", ".envrc", "terraform.tfvars", "*.auto.tfvars", "*.tfvars.json"}

// projectRoots are the directories developers keep checkouts in.
var projectRoots = []string{"code", "src", "projects", "Projects", "work", "dev", "git", "repos", "workspace",
	"go/src", "Documents/GitHub"}

// envPlaces are the env-file patterns: in home, one level below home, and
// one and two levels into each project root.
func envPlaces(home string) []string {
	var out []string
	dirs := []string{home, filepath.Join(home, "*")}
	for _, r := range projectRoots {
		root := filepath.Join(home, filepath.FromSlash(r))
		dirs = append(dirs, filepath.Join(root, "*"), filepath.Join(root, "*", "*"))
	}
	for _, d := range dirs {
		for _, n := range envNames {
			out = append(out, filepath.Join(d, n))
		}
	}
	return out
}

// isTree reports whether a place is a directory tree, and returns the directory.
func isTree(place string) (string, bool) {
	return strings.CutSuffix(place, string(filepath.Separator)+treeSuffix)
}

// hasMeta reports whether a place is a glob pattern.
func hasMeta(place string) bool { return strings.ContainsAny(place, `*?[`) }
