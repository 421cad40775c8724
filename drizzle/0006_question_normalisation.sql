-- How the admin views tell that two questions are the same question (docs/api.md §13): case,
-- punctuation and whitespace do not count, so "What is ZMP?" and "what is  zmp" are one. A
-- function in the database, not in the Worker, because the statistics' rollups, the frequent
-- questions and the content gaps all group by it inside their statements, and an expression index
-- or a stored rollup key may be built on it: IMMUTABLE says its result depends on its argument
-- alone. [:punct:] and [:space:] follow the database's character classes (Neon: C.UTF-8); the
-- lower() of a non-ASCII letter follows its collation.
CREATE FUNCTION normalized_question(question text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN btrim(regexp_replace(lower(question), '[[:punct:][:space:]]+', ' ', 'g'));
