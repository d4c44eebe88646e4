// The allocator's one intrusive list: a doubly linked list threaded through two pointer members of
// the element (Go's mSpanList in mheap.go, with the links named by member pointers so that one
// type serves spans, thread caches, mutators and root handles). It never allocates, so it works
// inside malloc, and it is constant-initialised, so it works in static and thread-local storage.
// The caller provides the locking. See spanscope/allocator.h for the overview.
#pragma once
#include <cstddef>

namespace spanscope::detail {

// T* T::*Next and T::*Prev are the element's links; an element is on at most one list per pair of
// links at a time, and its links are null when it is on none (the list clears them on removal).
// Every operation is O(1) and inline: the member pointers are template arguments, so the compiler
// turns each link access into a fixed offset, as in the hand-written lists this replaces.
template <typename T, T* T::*Next, T* T::*Prev>
class IntrusiveList {
public:
    constexpr IntrusiveList() = default;

    T* first() const { return m_first; }
    T* last() const { return m_last; }
    size_t size() const { return m_size; }
    bool empty() const { return m_first == nullptr; }
    static T* next(const T* x) { return x->*Next; }
    static T* prev(const T* x) { return x->*Prev; }

    // Go's mSpanList.insert: at the front. (Links are read into locals once: a store through a
    // member pointer may alias any T* field as far as the compiler knows, so x->*Next read again
    // after one would be a reload.)
    void pushFront(T* x) {
        T* const f = m_first;
        x->*Prev = nullptr;
        x->*Next = f;
        if (f)
            f->*Prev = x;
        else
            m_last = x;
        m_first = x;
        m_size++;
    }
    // Go's mSpanList.insertBack.
    void pushBack(T* x) {
        T* const l = m_last;
        x->*Next = nullptr;
        x->*Prev = l;
        if (l)
            l->*Next = x;
        else
            m_first = x;
        m_last = x;
        m_size++;
    }
    // Go's mSpanList.remove: x must be on this list.
    void remove(T* x) {
        T* const n = x->*Next;
        T* const p = x->*Prev;
        if (p)
            p->*Next = n;
        else
            m_first = n;
        if (n)
            n->*Prev = p;
        else
            m_last = p;
        x->*Next = nullptr;
        x->*Prev = nullptr;
        m_size--;
    }
    T* popFront() {
        T* x = m_first;
        if (x) remove(x);
        return x;
    }
    // Whether x is on this list, in O(1), for an x that is on this list or on none of its kind: the
    // first element, or linked to a previous one (an unlisted element's links are null).
    bool contains(const T* x) const { return x == m_first || x->*Prev != nullptr; }
    // Forgets every element without touching them (a fork child rebuilding its lists).
    void clear() {
        m_first = m_last = nullptr;
        m_size = 0;
    }

    // Range-for over the elements. The body must not remove the element it is given (walk with
    // first() and next() for that).
    class Iterator {
    public:
        explicit Iterator(T* x) : m_x(x) {}
        T* operator*() const { return m_x; }
        Iterator& operator++() {
            m_x = m_x->*Next;
            return *this;
        }
        bool operator!=(const Iterator& o) const { return m_x != o.m_x; }

    private:
        T* m_x;
    };
    Iterator begin() const { return Iterator(m_first); }
    Iterator end() const { return Iterator(nullptr); }

private:
    T* m_first = nullptr;
    T* m_last = nullptr;
    size_t m_size = 0;
};

}  // namespace spanscope::detail
