package cmdutil

import (
	"github.com/spf13/cobra"

	"github.com/cloudnativelab/lab/internal/errs"
)

// NoArgs rejects positional arguments as invalid input (exit 2), naming them.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return errs.Invalidf("see `"+cmd.CommandPath()+" --help`", "%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}

// OneArg takes exactly one positional argument, what it is named in the error (e.g.
// "service name"), with an example command as the hint.
func OneArg(what, example string) cobra.PositionalArgs {
	return argCount(1, 1, what, example)
}

// AtMostOneArg takes zero or one positional argument.
func AtMostOneArg(what, example string) cobra.PositionalArgs {
	return argCount(0, 1, what, example)
}

// argCount rejects a wrong number of positional arguments as invalid input (exit 2).
func argCount(least, most int, what, example string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= least && len(args) <= most {
			return nil
		}
		takes := "one " + what
		if least == 0 {
			takes = "at most one " + what
		}
		return errs.Invalidf("for example: "+example, "%s takes %s, got %d", cmd.CommandPath(), takes, len(args))
	}
}

// FixedCompletion completes a flag with a fixed set of values.
func FixedCompletion(values ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// AddNameFlag adds --name for commands acting on one lab.
func (f *Factory) AddNameFlag(cmd *cobra.Command, name *string) {
	cmd.Flags().StringVar(name, "name", "", "name of the lab (default: the only lab, else \"default\")")
	cmd.RegisterFlagCompletionFunc("name", f.CompleteLabNames)
}

// FlagError marks a flag-parsing failure as invalid input.
func FlagError(_ *cobra.Command, err error) error {
	return errs.Wrap(errs.Invalid, err, "", "see the command's --help")
}
