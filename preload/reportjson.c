/*
 * reportjson.c - the JSON report (shared/REPORT-FORMAT.md): summary,
 * groups in rank order with their stacks, cycles, suppressions; written
 * through the caller's buffered writer into "<report_path>.tmp.<pid>" and
 * renamed, so a reader never sees half a report.  Also expands %p in
 * report paths.
 *
 * Runs under report.c's lock, with the symbolizer's session open.
 */
#include "reportctx.h"

#include "gen.h"
#include "options.h"
#include "os.h"
#include "stackdepot.h"
#include "symbolize.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef LM_VERSION
#define LM_VERSION "0.0.0"
#endif

static void json_count(struct lm_jw *j, const char *blocks_key, const char *bytes_key,
                       size_t blocks, size_t bytes)
{
    lm_jw_key(j, blocks_key); lm_jw_u64(j, blocks);
    lm_jw_key(j, bytes_key); lm_jw_u64(j, bytes);
}

static void json_stack(struct lm_jw *j, uint32_t stack_id)
{
    const uintptr_t *pcs;
    int n = lm_stackdepot_get(stack_id, &pcs);
    lm_jw_key(j, "stack");
    lm_jw_arr_begin(j);
    for (int i = 0; i < n; i++) {
        struct lm_sym s;
        lm_symbolize(pcs[i], true, &s);
        lm_jw_obj_begin(j);
        lm_jw_key(j, "pc"); lm_jw_hex(j, pcs[i]);
        lm_jw_key(j, "module"); lm_jw_str(j, s.module);
        lm_jw_key(j, "offset"); lm_jw_hex(j, pcs[i] - s.bias);
        if (s.function) { lm_jw_key(j, "function"); lm_jw_str(j, s.function); }
        if (s.file) { lm_jw_key(j, "file"); lm_jw_str(j, s.file); }
        if (s.file && s.line > 0) { lm_jw_key(j, "line"); lm_jw_u64(j, (uint64_t)s.line); }
        lm_jw_obj_end(j);
    }
    lm_jw_arr_end(j);
}

static void json_cycles(struct lm_report_ctx *c, struct lm_jw *j)
{
    lm_jw_key(j, "cycles");
    lm_jw_arr_begin(j);
    uint32_t id = 0, nscc = c->g ? lm_leakgraph_scc_count(c->g) : 0;
    for (uint32_t s = 0; s < nscc; s++) {
        if (!lm_report_cycle_shown(c, s))
            continue;
        uint32_t cnt;
        const uint32_t *m = lm_leakgraph_scc_members(c->g, s, &cnt);
        size_t bytes = 0;
        struct lm_block_ref b;
        for (uint32_t i = 0; i < cnt; i++) {
            lm_mark_leaked_block(c->res, m[i], &b);
            bytes += b.size;
        }
        lm_jw_obj_begin(j);
        lm_jw_key(j, "id"); lm_jw_u64(j, id++);
        json_count(j, "blocks", "bytes", cnt, bytes);
        bool root = lm_leakgraph_scc_is_root(c->g, s);
        lm_jw_key(j, "root"); lm_jw_bool(j, root);
        uint32_t og = root ? NO_GROUP : lm_report_owner_group(c, m[0]);
        if (og != NO_GROUP) { lm_jw_key(j, "held_by"); lm_jw_u64(j, u32(&c->rank)[og]); }
        lm_jw_key(j, "members");
        lm_jw_arr_begin(j);
        for (uint32_t i = 0; i < cnt; i++) {
            lm_mark_leaked_block(c->res, m[i], &b);
            lm_jw_obj_begin(j);
            lm_jw_key(j, "address"); lm_jw_hex(j, b.start);
            lm_jw_key(j, "size"); lm_jw_u64(j, b.size);
            lm_jw_key(j, "leak"); lm_jw_u64(j, lm_report_rank_of_node(c, m[i]));
            lm_jw_obj_end(j);
        }
        lm_jw_arr_end(j);
        lm_jw_key(j, "edges");
        lm_jw_arr_begin(j);
        lm_lg_scc_edge_iter_t it;
        lm_leakgraph_scc_edges_begin(c->g, s, &it);
        for (const lm_lg_edge_t *e; (e = lm_leakgraph_scc_edges_next(&it));) {
            lm_jw_obj_begin(j);
            lm_jw_key(j, "from"); lm_jw_u64(j, lm_leakgraph_member_index(c->g, e->from));
            lm_jw_key(j, "offset"); lm_jw_u64(j, e->offset);
            lm_jw_key(j, "to"); lm_jw_u64(j, lm_leakgraph_member_index(c->g, e->to));
            lm_jw_obj_end(j);
        }
        lm_jw_arr_end(j);
        lm_jw_obj_end(j);
    }
    lm_jw_arr_end(j);
}

static void write_json(struct lm_report_ctx *c, struct lm_bufw *w, const struct lm_report_info *info)
{
    const struct view *r = &c->v;
    struct lm_jw jw, *j = &jw;
    lm_jw_init(j, w, 2);
    lm_jw_obj_begin(j);
    lm_jw_key(j, "tool"); lm_jw_str(j, "leakmark");
    lm_jw_key(j, "schema"); lm_jw_u64(j, 1);
    lm_jw_key(j, "version"); lm_jw_str(j, LM_VERSION);
    lm_jw_key(j, "pid"); lm_jw_i64(j, info->pid);
    lm_jw_key(j, "exe"); lm_jw_str(j, lm_exe_path());
    lm_jw_key(j, "trigger"); lm_jw_str(j, info->trigger);
    lm_jw_key(j, "summary");
    lm_jw_obj_begin(j);
    json_count(j, "live_blocks", "live_bytes", r->live.blocks, r->live.bytes);
    json_count(j, "definite_blocks", "definite_bytes", r->definite.blocks, r->definite.bytes);
    json_count(j, "indirect_blocks", "indirect_bytes", r->indirect.blocks, r->indirect.bytes);
    json_count(j, "possible_blocks", "possible_bytes", r->possible.blocks, r->possible.bytes);
    json_count(j, "reachable_blocks", "reachable_bytes", r->reachable.blocks, r->reachable.bytes);
    json_count(j, "suppressed_blocks", "suppressed_bytes", r->sup_blocks, r->sup_bytes);
    lm_jw_key(j, "cycles"); lm_jw_u64(j, r->cycles);
    lm_jw_key(j, "scan_ms"); lm_jw_fixed(j, info->scan_ms, 3);
    lm_jw_key(j, "pause_ms"); lm_jw_fixed(j, info->pause_ms, 3);
    lm_jw_key(j, "threads_not_stopped"); lm_jw_u64(j, info->threads_not_stopped);
    if (info->periodic)
        json_count(j, "unreported_blocks", "unreported_bytes", r->unreported.blocks,
                   r->unreported.bytes);
    lm_jw_obj_end(j);
    if (info->periodic) {
        lm_jw_key(j, "scan");
        lm_jw_obj_begin(j);
        lm_jw_key(j, "seq"); lm_jw_u64(j, info->scan_seq);
        lm_jw_key(j, "generation"); lm_jw_str(j, lm_gen_name(info->scan_level));
        lm_jw_key(j, "min_unref_scans"); lm_jw_u64(j, lm_options.min_unref_scans);
        lm_jw_key(j, "min_age_ms"); lm_jw_u64(j, lm_options.min_age_ms);
        json_count(j, "confirmed_blocks", "confirmed_bytes", info->confirmed_blocks,
                   info->confirmed_bytes);
        lm_jw_obj_end(j);
    }
    lm_jw_key(j, "leaks");
    lm_jw_arr_begin(j);
    for (size_t i = 0; i < c->order.len; i++) {
        const struct group *g = grp(c, u32(&c->order)[i]);
        lm_jw_obj_begin(j);
        lm_jw_key(j, "kind"); lm_jw_str(j, lm_report_kind_name[g->kind]);
        json_count(j, "blocks", "bytes", g->blocks, g->bytes);
        lm_jw_key(j, "in_cycle"); lm_jw_bool(j, g->in_cycle);
        if (g->owner != NO_GROUP) { lm_jw_key(j, "held_by"); lm_jw_u64(j, u32(&c->rank)[g->owner]); }
        lm_jw_key(j, "generation"); lm_jw_str(j, lm_report_group_generation(g));
        lm_jw_key(j, "generations");
        lm_jw_obj_begin(j);
        for (unsigned k = 0; k < 3; k++) {
            lm_jw_key(j, lm_gen_name(k));
            lm_jw_u64(j, g->gen_blocks[k]);
        }
        lm_jw_obj_end(j);
        json_stack(j, g->stack_id);
        lm_jw_obj_end(j);
    }
    lm_jw_arr_end(j);
    json_cycles(c, j);
    lm_supp_write_json(&c->supp, j);
    lm_jw_obj_end(j);
    lm_bufw_write(w, "\n", 1);
}

size_t lm_report_expand_path(char *out, size_t cap, const char *pattern, pid_t pid)
{
    return lm_expand_path(out, cap, pattern, (int)pid, NULL);
}

static const char *errno_name(int e)
{
    switch (e) {
    case ENOENT: return "ENOENT: no such directory";
    case EACCES: return "EACCES: permission denied";
    case EROFS: return "EROFS: read-only file system";
    case ENOSPC: return "ENOSPC: no space left";
    case EISDIR: return "EISDIR: is a directory";
    case ENOTDIR: return "ENOTDIR: not a directory";
    case EDQUOT: return "EDQUOT: quota exceeded";
    case ENAMETOOLONG: return "ENAMETOOLONG: path too long";
    case EINVAL: return "EINVAL: empty report_path";
    default: return "see errno(3)";
    }
}

static int json_failed(const char *path, int err)
{
    lm_log("cannot write the JSON report to '%s': errno %d (%s)", path, err, errno_name(err));
    return err;
}

/* JSON into path via "<path>.tmp.<pid>" + rename.  Returns 0 or errno. */
int lm_report_json_to_file(struct lm_report_ctx *c, char *buf, size_t cap, const struct lm_report_info *info)
{
    char path[LM_OPT_STR_MAX + 64], tmp[LM_OPT_STR_MAX + 96];
    pid_t pid = lm_os_getpid();
    int err = 0;
    const char *pattern = info->json_path ? info->json_path : lm_options.report_path;
    if (!pattern[0])
        return json_failed("", EINVAL);
    if (!lm_report_expand_path(path, sizeof path, pattern, info->pid) ||
        lm_format(tmp, sizeof tmp, "%s.tmp.%d", path, (int)pid) >= sizeof tmp - 1)
        return json_failed(lm_options.report_path, ENAMETOOLONG);
    long fd = syscall(SYS_openat, AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return json_failed(path, errno);
    struct lm_bufw w;
    lm_bufw_init(&w, (int)fd, buf, cap);
    write_json(c, &w, info);
    err = lm_bufw_flush(&w);
    if (syscall(SYS_close, (int)fd) != 0 && !err)
        err = errno;
    if (!err && syscall(SYS_rename, tmp, path) != 0)
        err = errno;
    if (err) {
        syscall(SYS_unlink, tmp);
        return json_failed(path, err);
    }
    return 0;
}
