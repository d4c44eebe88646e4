// The heap profile's symbolizer: every return address in prof_stacks not yet in prof_frames
// becomes its frames (function, file:line, one row per inlined frame, innermost first) with
// elfutils' libdw, from the loaded objects the probe recorded (prof_modules: path, address range,
// load bias). DWARF when the object or its separate debug file (/usr/lib/debug, by build id) has
// it; otherwise the ELF symbol tables (.symtab, else .dynsym) name the function. Each module's
// build id is kept. Runs when a recording ends (Recorder::finish), on the recording machine.
#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>

#include "spanscope/detail/profile_store.h"

namespace spanscope::session {

namespace {

struct Frame {
    std::string function, file;
    int line = 0;
};

struct Module {
    int64_t id;
    std::string path;
    uint64_t start, end, bias;
};

std::string demangle(const char* name) {
    if (!name) return {};
    int status = 0;
    char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    std::string out = status == 0 && d ? d : name;
    std::free(d);
    return out;
}

std::string dieName(Dwarf_Die* die) {
    Dwarf_Attribute attr;
    for (int at : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name})
        if (dwarf_attr_integrate(die, at, &attr))
            if (const char* s = dwarf_formstring(&attr)) return demangle(s);
    const char* n = dwarf_diename(die);
    return n ? n : "";
}

// The frames at addr (a return address minus one), innermost first.
std::vector<Frame> framesAt(Dwfl_Module* mod, Dwarf_Addr addr) {
    std::vector<Frame> frames;
    Frame pos;
    if (Dwfl_Line* l = dwfl_module_getsrc(mod, addr)) {
        if (const char* f = dwfl_lineinfo(l, nullptr, &pos.line, nullptr, nullptr, nullptr))
            pos.file = f;
    }
    Dwarf_Addr bias = 0;
    Dwarf_Die* cu = dwfl_module_addrdie(mod, addr, &bias);
    Dwarf_Die* scopes = nullptr;
    const int n = cu ? dwarf_getscopes(cu, addr - bias, &scopes) : 0;
    Dwarf_Files* files = nullptr;
    size_t nfiles = 0;
    if (cu) dwarf_getsrcfiles(cu, &files, &nfiles);
    for (int i = 0; i < n; i++) {
        const int tag = dwarf_tag(&scopes[i]);
        if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram) continue;
        frames.push_back(Frame{dieName(&scopes[i]), pos.file, pos.line});
        if (tag == DW_TAG_subprogram) break;
        // The next frame out is where this one was inlined: its call_file and call_line.
        Dwarf_Attribute attr;
        Dwarf_Word v = 0;
        pos.line = dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &v) == 0
                       ? static_cast<int>(v)
                       : 0;
        pos.file.clear();
        if (files && dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &v) == 0 &&
            v < nfiles)
            if (const char* f = dwarf_filesrc(files, v, nullptr, nullptr)) pos.file = f;
    }
    std::free(scopes);
    // No DWARF (or no subprogram): the symbol table's name. The outermost frame's name from the
    // symbol table is also better than an empty DWARF one.
    if (frames.empty() || frames.back().function.empty()) {
        std::string sym = demangle(dwfl_module_addrname(mod, addr));
        if (frames.empty())
            frames.push_back(Frame{sym, pos.file, pos.line});
        else
            frames.back().function = sym;
    }
    return frames;
}

std::string buildId(Dwfl_Module* mod) {
    const unsigned char* bits = nullptr;
    GElf_Addr vaddr = 0;
    const int n = dwfl_module_build_id(mod, &bits, &vaddr);
    std::string hex;
    static const char* const kHex = "0123456789abcdef";
    for (int i = 0; i < n; i++) {
        hex += kHex[bits[i] >> 4];
        hex += kHex[bits[i] & 15];
    }
    return hex;
}

char* g_debuginfoPath = nullptr;
const Dwfl_Callbacks kCallbacks = {dwfl_build_id_find_elf, dwfl_standard_find_debuginfo,
                                   dwfl_offline_section_address, &g_debuginfoPath};

}  // namespace

size_t ProfileStore::symbolize(std::string* err) {
    std::vector<Module> modules;
    std::vector<uint64_t> pcs;
    {
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(m_db, "SELECT id, path, start, end, bias FROM prof_modules ORDER BY id",
                           -1, &st, nullptr);
        while (st && sqlite3_step(st) == SQLITE_ROW)
            modules.push_back(Module{sqlite3_column_int64(st, 0),
                                     reinterpret_cast<const char*>(sqlite3_column_text(st, 1)),
                                     static_cast<uint64_t>(sqlite3_column_int64(st, 2)),
                                     static_cast<uint64_t>(sqlite3_column_int64(st, 3)),
                                     static_cast<uint64_t>(sqlite3_column_int64(st, 4))});
        sqlite3_finalize(st);
        sqlite3_prepare_v2(m_db,
                           "SELECT DISTINCT pc FROM prof_stacks WHERE pc NOT IN (SELECT pc FROM "
                           "prof_frames) ORDER BY pc",
                           -1, &st, nullptr);
        while (st && sqlite3_step(st) == SQLITE_ROW)
            pcs.push_back(static_cast<uint64_t>(sqlite3_column_int64(st, 0)));
        sqlite3_finalize(st);
    }
    // Each address to the newest object loaded over it.
    std::map<size_t, std::vector<uint64_t>> byModule;
    std::vector<uint64_t> unknown;
    for (uint64_t pc : pcs) {
        size_t found = SIZE_MAX;
        for (size_t m = modules.size(); m-- > 0;)
            if (pc > modules[m].start && pc <= modules[m].end) {
                found = m;
                break;
            }
        if (found == SIZE_MAX)
            unknown.push_back(pc);
        else
            byModule[found].push_back(pc);
    }
    sqlite3_stmt* ins = nullptr;
    sqlite3_stmt* setId = nullptr;
    sqlite3_prepare_v2(m_db,
                       "INSERT OR REPLACE INTO prof_frames(pc, idx, module, function, file, line) "
                       "VALUES (?,?,?,?,?,?)",
                       -1, &ins, nullptr);
    sqlite3_prepare_v2(m_db, "UPDATE prof_modules SET build_id = ? WHERE id = ?", -1, &setId,
                       nullptr);
    auto put = [&](uint64_t pc, int idx, int64_t module, const Frame& f) {
        sqlite3_bind_int64(ins, 1, static_cast<int64_t>(pc));
        sqlite3_bind_int(ins, 2, idx);
        if (module)
            sqlite3_bind_int64(ins, 3, module);
        else
            sqlite3_bind_null(ins, 3);
        if (f.function.empty())
            sqlite3_bind_null(ins, 4);
        else
            sqlite3_bind_text(ins, 4, f.function.c_str(), -1, SQLITE_TRANSIENT);
        if (f.file.empty())
            sqlite3_bind_null(ins, 5);
        else
            sqlite3_bind_text(ins, 5, f.file.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(ins, 6, f.line);
        sqlite3_step(ins);
        sqlite3_reset(ins);
    };
    for (uint64_t pc : unknown) put(pc, 0, 0, Frame{});
    for (auto& [m, list] : byModule) {
        const Module& mod = modules[m];
        Dwfl* dwfl = dwfl_begin(&kCallbacks);
        Dwfl_Module* dm = nullptr;
        if (dwfl) {
            dwfl_report_begin(dwfl);
            const char* base = std::strrchr(mod.path.c_str(), '/');
            dm = dwfl_report_elf(dwfl, base ? base + 1 : mod.path.c_str(), mod.path.c_str(), -1,
                                 mod.bias, true);
            dwfl_report_end(dwfl, nullptr, nullptr);
        }
        if (dm) {
            const std::string id = buildId(dm);
            if (!id.empty()) {
                sqlite3_bind_text(setId, 1, id.c_str(), -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(setId, 2, mod.id);
                sqlite3_step(setId);
                sqlite3_reset(setId);
            }
        } else if (err && err->empty()) {
            *err = mod.path + ": " + dwfl_errmsg(-1);
        }
        for (uint64_t pc : list) {
            if (!dm) {
                put(pc, 0, mod.id, Frame{});
                continue;
            }
            std::vector<Frame> frames = framesAt(dm, pc - 1);
            for (size_t i = 0; i < frames.size(); i++)
                put(pc, static_cast<int>(i), mod.id, frames[i]);
        }
        if (dwfl) dwfl_end(dwfl);
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(setId);
    return pcs.size();
}

}  // namespace spanscope::session
