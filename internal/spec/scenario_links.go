package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// maxLinkHops bounds the symbolic links followed to resolve one path, as the kernel
// does (ELOOP), so that a cycle of links ends.
const maxLinkHops = 40

// linkProblem says why a path of a scenario's folder, or anything inside it when it is
// a folder, leads outside the folder through a symbolic link; "" when every link on the
// way and inside stays in the folder. Links are resolved one component at a time, as
// the kernel does, so "a/../x" where a is a link goes where a's target's parent is, not
// to x. A link to an absolute path is refused even when it points back inside: the
// folder is copied and cloned, and the link would then point elsewhere.
func linkProblem(fsys fs.FS, name string) string {
	resolved, msg := resolveLinks(fsys, name)
	if msg != "" {
		return msg
	}
	return treeLinkProblem(fsys, resolved, map[string]bool{})
}

// resolveLinks is name with every symbolic link resolved, inside fsys; or a message when
// a link leads outside. A path that does not exist resolves as far as it exists, for
// the caller's own check to report it.
func resolveLinks(fsys fs.FS, name string) (string, string) {
	pending := strings.Split(name, "/")
	cur := "." // resolved so far: no links in it
	for hops := 0; len(pending) > 0; {
		part := pending[0]
		pending = pending[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if cur == "." { // only through a link: name itself stays inside
				return "", fmt.Sprintf("%s leads outside the scenario's folder through symbolic links: lab reads only files inside it", name)
			}
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, part)
		info, err := fs.Lstat(fsys, next)
		if err != nil || info.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		target, err := fs.ReadLink(fsys, next)
		if err != nil {
			return "", fmt.Sprintf("cannot read the symbolic link %s: %v", next, err)
		}
		if hops++; hops > maxLinkHops {
			return "", fmt.Sprintf("%s: too many levels of symbolic links", name)
		}
		if path.IsAbs(target) || leavesFolder(cur, target) {
			return "", fmt.Sprintf("%s is a symbolic link to %s, outside the scenario's folder: lab reads only files inside it (links must be relative and stay inside)", next, target)
		}
		pending = append(strings.Split(target, "/"), pending...)
	}
	return cur, ""
}

// leavesFolder reports whether a link's relative target, taken from dir (a resolved
// folder of the scenario), climbs above the scenario's folder at some point.
func leavesFolder(dir, target string) bool {
	depth := 0
	if dir != "." {
		depth = strings.Count(dir, "/") + 1
	}
	for part := range strings.SplitSeq(target, "/") {
		switch part {
		case "", ".":
		case "..":
			if depth--; depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

// treeLinkProblem checks every symbolic link inside a folder (and inside the folders
// those links lead to); seen holds the folders already walked, so link cycles end.
func treeLinkProblem(fsys fs.FS, dir string, seen map[string]bool) string {
	info, err := fs.Stat(fsys, dir)
	if err != nil || !info.IsDir() || seen[dir] {
		return ""
	}
	seen[dir] = true
	var problem string
	errStop := errors.New("stop")
	_ = fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return nil // an unreadable entry is reported by what reads it
		}
		resolved, msg := resolveLinks(fsys, p)
		if msg == "" {
			msg = treeLinkProblem(fsys, resolved, seen)
		}
		if msg != "" {
			problem = msg
			if p != dir {
				problem = fmt.Sprintf("inside %s: %s", dir, msg)
			}
			return errStop
		}
		return nil
	})
	return problem
}
