-- E-book chapters and export files as chunk locations ("ch. 3 “Winding down”",
-- "Course/Week 1/Breathing"): the chapter's or file's number in location_value, its title or
-- folder path in location_section.
ALTER TABLE public.chunks DROP CONSTRAINT chunks_location_kind_check;
ALTER TABLE public.chunks
  ADD CONSTRAINT chunks_location_kind_check CHECK (location_kind IN ('slide', 'time', 'row', 'chapter', 'path'));
