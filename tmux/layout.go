package tmux

import "fmt"

// The layout is tmux's: a tree of cells, each a pane (leaf) or a row of
// cells side by side (left-right) or a column of cells (top-bottom), with a
// one-cell border between siblings. Sizes follow tmux 3.3's arithmetic
// (checked against tmux itself: a 120x40 window split -v gives 20, a border
// line, and 19).

type cellKind int

const (
	cellLeaf cellKind = iota
	cellLR            // children side by side (split -h)
	cellTB            // children stacked (split -v)
)

type cell struct {
	kind     cellKind
	parent   *cell
	children []*cell
	pane     *Pane
	x, y     int
	w, h     int
}

func leaf(p *Pane, w, h int) *cell { return &cell{kind: cellLeaf, pane: p, w: w, h: h} }

// size is the cell's extent along the direction kind.
func (c *cell) size(kind cellKind) int {
	if kind == cellLR {
		return c.w
	}
	return c.h
}

func (c *cell) setSize(kind cellKind, n int) {
	if kind == cellLR {
		c.w = n
	} else {
		c.h = n
	}
}

// place computes offsets (and cross sizes) for the subtree from c's own.
func (c *cell) place(x, y int) {
	c.x, c.y = x, y
	off := 0
	for _, ch := range c.children {
		switch c.kind {
		case cellLR:
			ch.h = c.h
			ch.place(x+off, y)
			off += ch.w + 1
		case cellTB:
			ch.w = c.w
			ch.place(x, y+off)
			off += ch.h + 1
		}
	}
}

// grow enlarges c by n along kind, spreading the change over children one
// unit at a time like tmux's layout_resize_adjust.
func (c *cell) grow(kind cellKind, n int) {
	c.setSize(kind, c.size(kind)+n)
	if c.kind == cellLeaf {
		return
	}
	if c.kind != kind {
		for _, ch := range c.children {
			ch.grow(kind, n)
		}
		return
	}
	for n > 0 {
		for _, ch := range c.children {
			if n == 0 {
				break
			}
			ch.grow(kind, 1)
			n--
		}
	}
}

func (c *cell) leaves(out []*cell) []*cell {
	if c.kind == cellLeaf {
		return append(out, c)
	}
	for _, ch := range c.children {
		out = ch.leaves(out)
	}
	return out
}

// splitSizes returns the sizes of the old and the new cell when a cell of
// total cells is split; want > 0 asks for that size for the new one.
func splitSizes(total, want int) (oldSize, newSize int, err error) {
	if total < 3 {
		return 0, 0, fmt.Errorf("pane too small to split (%d cells)", total)
	}
	newSize = (total - 1) / 2
	if want > 0 {
		newSize = min(max(want, 1), total-2)
	}
	return total - 1 - newSize, newSize, nil
}

// split divides the leaf lc in kind's direction and returns the new leaf for
// p, after lc (or before it), in the tree whose root is *root.
func split(root **cell, lc *cell, p *Pane, kind cellKind, want int, before bool) (*cell, error) {
	oldSize, newSize, err := splitSizes(lc.size(kind), want)
	if err != nil {
		return nil, err
	}
	nc := leaf(p, lc.w, lc.h)
	parent := lc.parent
	if parent == nil || parent.kind != kind {
		// Replace the leaf by a container of the right kind holding it.
		ct := &cell{kind: kind, parent: parent, w: lc.w, h: lc.h}
		if parent == nil {
			*root = ct
		} else {
			for i, ch := range parent.children {
				if ch == lc {
					parent.children[i] = ct
				}
			}
		}
		lc.parent = ct
		ct.children = []*cell{lc}
		parent = ct
	}
	nc.parent = parent
	i := indexOf(parent.children, lc)
	if before {
		parent.children = insertAt(parent.children, i, nc)
		// tmux gives the new cell the first part when it goes before
	} else {
		parent.children = insertAt(parent.children, i+1, nc)
	}
	lc.setSize(kind, oldSize)
	nc.setSize(kind, newSize)
	(*root).place(0, 0)
	return nc, nil
}

// remove takes the leaf out and gives its space to the previous sibling (the
// next one for a first child), collapsing one-child containers.
func remove(root **cell, lc *cell) {
	parent := lc.parent
	if parent == nil {
		*root = nil
		return
	}
	i := indexOf(parent.children, lc)
	other := parent.children[max(i-1, 0)]
	if i == 0 {
		other = parent.children[1]
	}
	other.grow(parent.kind, lc.size(parent.kind)+1)
	parent.children = append(parent.children[:i], parent.children[i+1:]...)
	if len(parent.children) == 1 {
		only := parent.children[0]
		only.parent = parent.parent
		only.w, only.h = parent.w, parent.h
		if parent.parent == nil {
			*root = only
		} else {
			for j, ch := range parent.parent.children {
				if ch == parent {
					parent.parent.children[j] = only
				}
			}
		}
	}
	(*root).place(0, 0)
}

// evenSizes divides total among n cells with borders; the last takes the rest.
func evenSizes(total, n int) []int {
	each := max((total-(n-1))/n, 1)
	s := make([]int, n)
	for i := range s {
		s[i] = each
	}
	s[n-1] = max(total-(n-1)*(each+1), 1)
	return s
}

func container(kind cellKind, w, h int, children ...*cell) *cell {
	c := &cell{kind: kind, w: w, h: h, children: children}
	for _, ch := range children {
		ch.parent = c
	}
	return c
}

// layoutEven puts panes side by side (cellLR) or stacked (cellTB), evenly.
func layoutEven(panes []*Pane, kind cellKind, w, h int) *cell {
	if len(panes) == 1 {
		return leaf(panes[0], w, h)
	}
	total := h
	if kind == cellLR {
		total = w
	}
	var kids []*cell
	for i, sz := range evenSizes(total, len(panes)) {
		c := leaf(panes[i], w, h)
		c.setSize(kind, sz)
		kids = append(kids, c)
	}
	return container(kind, w, h, kids...)
}

// layoutTiled is tmux's tiled layout: a grid with as many rows as columns
// (or one more), the last row and column taking what is left.
func layoutTiled(panes []*Pane, w, h int) *cell {
	n := len(panes)
	if n == 1 {
		return leaf(panes[0], w, h)
	}
	rows, cols := 1, 1
	for rows*cols < n {
		rows++
		if rows*cols < n {
			cols++
		}
	}
	width := max((w-(cols-1))/cols, 1)
	height := max((h-(rows-1))/rows, 1)
	var rowCells []*cell
	for r, i := 0, 0; r < rows && i < n; r++ {
		left := n - i
		var row *cell
		if left == 1 || cols == 1 {
			row = leaf(panes[i], w, height)
			i++
		} else {
			var kids []*cell
			for c := 0; c < cols && i < n; c++ {
				kids = append(kids, leaf(panes[i], width, height))
				i++
			}
			used := len(kids)*(width+1) - 1
			if w > used {
				kids[len(kids)-1].w += w - used
			}
			row = container(cellLR, w, height, kids...)
		}
		rowCells = append(rowCells, row)
	}
	used := len(rowCells)*(height+1) - 1
	if h > used {
		rowCells[len(rowCells)-1].grow(cellTB, h-used)
	}
	if len(rowCells) == 1 {
		return rowCells[0]
	}
	return container(cellTB, w, h, rowCells...)
}

// layoutMain is main-horizontal (a 24-line pane on top, the others side by
// side below) or main-vertical (an 80-column pane left, the others stacked).
func layoutMain(panes []*Pane, vertical bool, w, h int) *cell {
	if len(panes) == 1 {
		return leaf(panes[0], w, h)
	}
	if !vertical {
		mainH := min(24, max(h-2, 1))
		rest := layoutEven(panes[1:], cellLR, w, h-mainH-1)
		rest.h = h - mainH - 1
		return container(cellTB, w, h, leaf(panes[0], w, mainH), rest)
	}
	mainW := min(80, max(w-2, 1))
	rest := layoutEven(panes[1:], cellTB, w-mainW-1, h)
	rest.w = w - mainW - 1
	return container(cellLR, w, h, leaf(panes[0], mainW, h), rest)
}

func indexOf(cs []*cell, c *cell) int {
	for i, x := range cs {
		if x == c {
			return i
		}
	}
	return -1
}

func insertAt(cs []*cell, i int, c *cell) []*cell {
	cs = append(cs, nil)
	copy(cs[i+1:], cs[i:])
	cs[i] = c
	return cs
}
